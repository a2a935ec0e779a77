"""Run records (schema 1, docs/record-schema.md): loading, validation and the facts every
report reads from a record (versions, verdict counts, partial claims, selections).

    load_record(path) -> dict, or RecordError whose str() is one line for the user
"""

from __future__ import annotations

import json
import re
from typing import Any

SCHEMA = 1
VERDICTS = ("holds", "violated", "not_applicable", "error")


class RecordError(Exception):
    """A file that cannot be compared; str() is the one line shown to the user."""


# --------------------------------------------------------------------------
# Loading and validation
# --------------------------------------------------------------------------

def load_record(path: str) -> dict:
    """Read and validate one record; raise RecordError with a one-line message."""
    name = str(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise RecordError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise RecordError(f"{name}: is a directory, not a record file") from None
    except OSError as exc:
        raise RecordError(f"{name}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RecordError(f"{name}: not a run record (not UTF-8 text, is it JSON?)") from None
    if not text.strip():
        raise RecordError(f"{name}: empty file, not a run record")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if _looks_truncated(text):
            lines = text.count("\n") + (not text.endswith("\n"))
            raise RecordError(
                f"{name}: truncated JSON (the file stops after {lines} lines, {len(raw)} bytes, "
                f"before the record is complete; was the run interrupted?)") from None
        raise RecordError(
            f"{name}: not a run record: not valid JSON ({exc.msg} at line {exc.lineno} "
            f"column {exc.colno})") from None
    return validate_record(data, name)


def _looks_truncated(text: str) -> bool:
    """True when JSON text that starts like an object or array ends inside a
    string or with brackets still open, i.e. it was cut off."""
    body = text.lstrip()
    if not body.startswith(("{", "[")):
        return False
    depth, in_str, esc = 0, False, False
    for ch in body:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
    return in_str or depth > 0


def validate_record(data: Any, name: str = "record") -> dict:
    """Check the parts of schema 1 the comparison relies on."""
    if not isinstance(data, dict):
        raise RecordError(f"{name}: not a run record (top level is a JSON "
                          f"{type(data).__name__}, expected an object)")
    if "schema" not in data:
        raise RecordError(f"{name}: not a run record (no \"schema\" key; expected "
                          f"reports/out/record.json from the suite)")
    if data["schema"] != SCHEMA:
        raise RecordError(f"{name}: record schema {data['schema']!r}, but this tool reads "
                          f"schema {SCHEMA}")
    for key, typ in (("host", dict), ("claims", list)):
        if not isinstance(data.get(key), typ):
            raise RecordError(f"{name}: not a valid schema {SCHEMA} record (\"{key}\" is "
                              f"missing or not a JSON {'object' if typ is dict else 'array'})")
    seen = set()
    for i, claim in enumerate(data["claims"]):
        if not isinstance(claim, dict) or not isinstance(claim.get("id"), str):
            raise RecordError(f"{name}: not a valid schema {SCHEMA} record (claims[{i}] has "
                              f"no string \"id\")")
        if claim.get("verdict") not in VERDICTS:
            raise RecordError(f"{name}: not a valid schema {SCHEMA} record (claim "
                              f"{claim['id']} has verdict {claim.get('verdict')!r}, expected "
                              f"one of {', '.join(VERDICTS)})")
        if claim["id"] in seen:
            raise RecordError(f"{name}: not a valid schema {SCHEMA} record (claim "
                              f"{claim['id']} appears twice)")
        seen.add(claim["id"])
    return data



def parse_version(value: Any) -> tuple[int, ...] | None:
    """'6.18.44-fc-v657' -> (6, 18, 44); '2.6.11' -> (2, 6, 11); None if no number."""
    if value is None:
        return None
    m = re.match(r"\s*v?(\d+(?:\.\d+)*)", str(value))
    if not m:
        return None
    return tuple(int(p) for p in m.group(1).split("."))


def version_lt(a: Any, b: Any) -> bool:
    """Numeric comparison of version strings, missing parts count as 0."""
    va, vb = parse_version(a), parse_version(b)
    if va is None or vb is None:
        raise ValueError(f"not a version: {a if va is None else b!r}")
    n = max(len(va), len(vb))
    return va + (0,) * (n - len(va)) < vb + (0,) * (n - len(vb))


def kernel_version(record: dict) -> str | None:
    host = record.get("host") or {}
    kv = host.get("kernel_version") or host.get("kernel_release")
    return kv if parse_version(kv) is not None else None



def partial_cases(claim: dict | None) -> list[dict]:
    """The cases of a holding claim that did not run ([{case, why}]; [] when all ran or
    the record predates the field)."""
    if not claim or claim.get("verdict") != "holds":
        return []
    return [p for p in claim.get("partial") or [] if isinstance(p, dict)]


def verdict_text(claim: dict | None) -> str:
    """'holds (partial)' for a claim some of whose cases did not run, else the verdict."""
    if not claim:
        return "(absent)"
    return "holds (partial)" if partial_cases(claim) else claim["verdict"]


def verdict_counts(record: dict) -> dict:
    """Claims per verdict, the total, and how many of the holding ones hold in part."""
    counts = {v: 0 for v in VERDICTS}
    for claim in record.get("claims", []):
        counts[claim["verdict"]] = counts.get(claim["verdict"], 0) + 1
    counts["partial"] = sum(1 for c in record.get("claims", []) if partial_cases(c))
    counts["total"] = len(record.get("claims", []))
    return counts


# pytest arguments that run less than the whole suite (for records that predate run.selection)
_SELECTING = ("-k", "-m", "--collect-only", "--co", "--lf", "--last-failed", "--deselect")


def selection_of(record: dict) -> str | None:
    """Why a record covers only part of the suite ('a selection: -k pipe'), or None for a
    full run.  The record says so in run.selection; an older record is judged by its
    pytest arguments (an option that selects, or a test path)."""
    run = record.get("run") if isinstance(record.get("run"), dict) else {}
    args = [str(a) for a in run.get("args") or [] if a is not None]
    shown = " ".join(args) or "no arguments recorded"
    if "selection" in run:  # the record's own word: a description ('-k pipe'), true, or null
        flag = run["selection"]
        if not flag:
            return None
        return f"a selection ({flag if isinstance(flag, str) else shown})"
    for a in args:
        if a.split("=")[0] in _SELECTING or (a.startswith("-k") and len(a) > 2):
            return f"a selection ({shown}; inferred from its arguments)"
        if not a.startswith("-") and ("::" in a or a.endswith(".py") or "suites/" in a):
            return f"a selection ({shown}; inferred from its arguments)"
    return None



def change_text(change: dict) -> str:
    """One entry of a claim's `changes`: 'version 5.15: note', 'kconfig CONFIG_X: note' or
    'capability CAP_X: note' (whichever the entry names; a note alone when it names none)."""
    heads = [f"{key} {change[key]}" for key in ("version", "kconfig", "capability")
             if change.get(key)]
    note = str(change.get("note") or "")
    return f"{', '.join(heads)}: {note}" if heads and note else ", ".join(heads) or note


def render_main(name: str, render, args: list[str]) -> int:
    """`python -m reports.NAME RECORD.json`: print render(record); exit 2 with one line on a
    bad record or a usage error."""
    import sys
    if len(args) != 1:
        print(f"usage: python -m reports.{name} RECORD.json", file=sys.stderr)
        return 2
    try:
        record = load_record(args[0])
    except RecordError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(render(record))
    return 0
