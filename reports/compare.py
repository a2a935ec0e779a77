"""Compare run records (schema 1) from several hosts or kernels.

    python -m reports.compare A.json B.json [C.json ...] [--format text|markdown|html|json]
                                                         [--output FILE] [--fail-on-error]

The first record is the baseline; every other record is compared with it by
claim id, the way SQUAD/LKFT and KernelCI compare a build against its base.

Exit status: 0 when nothing fails the gate, 1 when a claim went from holds to
violated or from holds to error without an explanation from the catalogue
(version, kconfig, capability), or a claim of the baseline is missing from a
full record (with --fail-on-error also any other new error), 2 for bad input
(one line on stderr naming the file and the problem).  A record marked as a
selection (``run.selection``: a -k or path selection, or --collect-only) is
compared on the claims it ran only, and the headline says so.

Everything here is plain functions over dicts: ``load_record`` (path -> dict or
RecordError), ``compare_pair`` (two records -> list of changes),
``build_comparison`` (records -> one dict the renderers read) and
``render_text`` / ``render_markdown`` / ``render_html``.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import sys
import textwrap
from typing import Any, Iterable

SCHEMA = 1
VERDICTS = ("holds", "violated", "not_applicable", "error")

# Change kinds, in the order a reader wants them.
KINDS = (
    "regression",       # holds -> violated
    "error",            # anything applicable -> error
    "fix",              # violated/error -> holds
    "partial",          # holds both times, but the cases that ran differ (claim["partial"])
    "verdict",          # any other verdict change (e.g. error -> violated)
    "not_applicable",   # applicable -> not_applicable
    "applicable",       # not_applicable -> holds/violated/error
    "value",            # same verdict, observed values differ
    "new",              # claim only in the other run
    "missing",          # claim only in the baseline
    "unselected",       # claim only in the baseline, the other run was a selection
)
KIND_TITLES = {
    "regression": "Regressions (holds \u2192 violated)",
    "error": "New errors",
    "fix": "Fixes (\u2192 holds)",
    "partial": "Checked in part (cases that did not run)",
    "verdict": "Other verdict changes",
    "not_applicable": "Became not applicable",
    "applicable": "Became applicable",
    "value": "Observed values differ",
    "new": "New claims",
    "missing": "Missing claims",
    "unselected": "Not in the selection (not compared)",
}
KIND_LABELS = {
    "regression": "REGRESSION",
    "error": "ERROR",
    "fix": "FIX",
    "partial": "PARTIAL",
    "verdict": "CHANGED",
    "not_applicable": "NOW N/A",
    "applicable": "NOW APPLICABLE",
    "value": "VALUES",
    "new": "NEW",
    "missing": "MISSING",
    "unselected": "NOT RUN",
}

# Host facts shown in the identity table: (label, getter).
IDENTITY_FIELDS = (
    ("kernel", lambda h: h.get("kernel_release")),
    ("kernel version", lambda h: h.get("kernel_version")),
    ("arch", lambda h: h.get("arch")),
    ("ABI", lambda h: h.get("abi")),
    ("personality", lambda h: h.get("personality")),
    ("distro", lambda h: h.get("distro")),
    ("libc", lambda h: h.get("libc")),
    ("pip", lambda h: h.get("pip")),
    ("uid", lambda h: h.get("uid")),
    ("capabilities", lambda h: _caps(h.get("capabilities"))),
    ("container", lambda h: h.get("container")),
    ("page size", lambda h: h.get("page_size")),
    ("host", lambda h: h.get("hostname")),
    ("kconfig from", lambda h: h.get("kconfig_source")),
)

_ABSENT = object()


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


# --------------------------------------------------------------------------
# Versions and identity
# --------------------------------------------------------------------------

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


def _caps(caps: Any) -> Any:
    if not isinstance(caps, dict):
        return caps
    missing = caps.get("missing") or []
    eff = caps.get("effective")
    if missing:
        return f"{eff} (missing {', '.join(missing)})" if eff else f"missing {', '.join(missing)}"
    return f"{eff} (full set)" if eff else "full set"


def fmt(value: Any) -> str:
    """Short, stable text for a value in a table."""
    if value is _ABSENT:
        return "(absent)"
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def _fmt_kconfig(value: Any) -> str:
    if value is _ABSENT:
        return "(unknown)"
    if value is None:
        return "not set"
    return fmt(value)


def identity(records: list[dict]) -> list[dict]:
    """Rows {label, values, differs} for host facts plus the kconfig options,
    sysctls and rlimits whose values differ between the runs."""
    hosts = [r.get("host") or {} for r in records]
    rows = []
    for label, get in IDENTITY_FIELDS:
        values = [get(h) for h in hosts]
        if all(v is None for v in values) and label in ("container", "kconfig from", "ABI",
                                                         "personality", "pip"):
            continue
        rows.append({"label": label, "values": [fmt(v) for v in values],
                     "differs": len({fmt(v) for v in values}) > 1})
    for section, shown in (("kconfig", _fmt_kconfig), ("sysctls", fmt), ("rlimits", fmt)):
        maps = [h.get(section) if isinstance(h.get(section), dict) else {} for h in hosts]
        keys = sorted(set().union(*[m.keys() for m in maps]))
        for key in keys:
            values = [m.get(key, _ABSENT) for m in maps]
            texts = [shown(v) for v in values]
            if len(set(texts)) > 1:
                rows.append({"label": f"{section[:-1] if section != 'kconfig' else 'kconfig'} {key}",
                             "values": texts, "differs": True, "section": section})
    return rows


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
    flag = run.get("selection")
    if flag is not None:
        return f"a selection ({shown})" if flag else None
    for a in args:
        if a.split("=")[0] in _SELECTING or (a.startswith("-k") and len(a) > 2):
            return f"a selection ({shown}; inferred from its arguments)"
        if not a.startswith("-") and ("::" in a or a.endswith(".py") or "suites/" in a):
            return f"a selection ({shown}; inferred from its arguments)"
    return None


# --------------------------------------------------------------------------
# Transitions
# --------------------------------------------------------------------------

def classify(before: str | None, after: str | None, observed_differ: bool,
             partial_differ: bool = False) -> str | None:
    """Kind of change for one claim id, or None if nothing changed."""
    if before is None:
        return "new"
    if after is None:
        return "missing"
    if before == after:
        if partial_differ:
            return "partial"
        return "value" if observed_differ else None
    if before == "holds" and after == "violated":
        return "regression"
    if after == "not_applicable":
        return "not_applicable"
    if before == "not_applicable":
        return "applicable"
    if after == "error":
        return "error"
    if after == "holds":
        return "fix"
    return "verdict"


def observed_diff(before: dict | None, after: dict | None,
                  run_specific: Iterable[str] = ()) -> tuple[list[dict], int]:
    """([{key, before, after}] for the observed values that differ, how many of the values
    that differ are run-specific and so left out: pids, ids, inodes, times, race outcomes,
    which differ between any two runs, on one kernel too)."""
    b = before if isinstance(before, dict) else {}
    a = after if isinstance(after, dict) else {}
    skip = set(run_specific)
    out, skipped = [], 0
    for key in sorted(set(a) | set(b)):
        vb, va = b.get(key, _ABSENT), a.get(key, _ABSENT)
        if vb != va:
            if key in skip:
                skipped += 1
            else:
                out.append({"key": key, "before": fmt(vb), "after": fmt(va)})
    return out, skipped


def _held(record: dict, cap: Any) -> bool | None:
    """Whether the run held capability cap (None: the record does not say)."""
    caps = (record.get("host") or {}).get("capabilities")
    if not isinstance(cap, str) or not isinstance(caps, dict) \
            or not isinstance(caps.get("missing"), list):
        return None
    return cap not in caps["missing"]


def expected_by(claim: dict, base: dict, other: dict) -> list[str]:
    """Notes from the claim's catalogue entry that explain a difference between
    the two runs: a `changes` version the two kernels straddle, a `changes`
    kconfig option (or an option the claim needs) set differently, a `changes`
    capability that one run held and the other did not, or the
    claim's `kernel` range (since/until) with one kernel in and one out."""
    notes: list[str] = []
    kb, ko = kernel_version(base), kernel_version(other)
    cb = (base.get("host") or {}).get("kconfig") or {}
    co = (other.get("host") or {}).get("kconfig") or {}

    def straddles(version: Any) -> bool:
        if kb is None or ko is None or parse_version(version) is None:
            return False
        return version_lt(kb, version) != version_lt(ko, version)

    def kconfig_differs(option: Any) -> bool:
        if not isinstance(option, str) or option not in cb or option not in co:
            return False  # unknown on one side: cannot explain anything
        return cb[option] != co[option]

    def capability_differs(cap: Any) -> bool:
        held = [_held(run, cap) for run in (base, other)]
        return None not in held and held[0] != held[1]

    for change in claim.get("changes") or []:
        if not isinstance(change, dict):
            continue
        note = change.get("note") or ""
        if "version" in change and straddles(change["version"]):
            notes.append(f"version {change['version']}: {note}".rstrip(": "))
        if "kconfig" in change and kconfig_differs(change["kconfig"]):
            notes.append(f"kconfig {change['kconfig']}: {note}".rstrip(": "))
        if "capability" in change and capability_differs(change["capability"]):
            notes.append(f"capability {change['capability']}: {note}".rstrip(": "))
    rng = claim.get("kernel") if isinstance(claim.get("kernel"), dict) else {}
    if rng.get("since") and straddles(rng["since"]):
        notes.append(f"version {rng['since']}: the claim as worded holds since {rng['since']}")
    if rng.get("until") and straddles(rng["until"]):
        notes.append(f"version {rng['until']}: the claim as worded holds until {rng['until']}")
    for option in claim.get("kconfig") or []:
        if kconfig_differs(option):
            notes.append(f"kconfig {option}: the facility needs it")
    return notes


def privilege_explains(b: dict, o: dict, base: dict, other: dict) -> list[str]:
    """A claim that became (not) applicable because one run lacked a capability: its skip
    reason names the capability (the suite's reasons say what would enable a claim), and
    the run that skipped lacks it while the other holds it."""
    na_claim, na_run, ok_run = (o, other, base) if o["verdict"] == "not_applicable" \
        else (b, base, other)
    reason = na_claim.get("reason") or ""
    notes = []
    for cap in dict.fromkeys(re.findall(r"\bCAP_[A-Z_]+", reason)):
        if _held(na_run, cap) is False and _held(ok_run, cap) is True:
            notes.append(f"capability {cap}: the run without it skips the claim")
    return notes


def _is_proof(key: str) -> bool:
    """An observed value that names how blocking was proved (syscall, wchan, sleeping)."""
    return key == "blocking_proof" or key.endswith(("_blocking_proof", ".blocking_proof"))


def value_explains(diff: list[dict], base: dict, other: dict) -> list[str]:
    """Notes for observed values that differ for a reason other than the kernel's
    behaviour: the process ABI of the two runs (x86_64 and i386 see other sizes and
    syscall numbers), or only the rung of the observation ladder that proved blocking."""
    notes = []
    abi = [(r.get("host") or {}).get("abi") for r in (base, other)]
    if None not in abi and abi[0] != abi[1]:
        notes.append(f"ABI {abi[0]} \u2192 {abi[1]}: values seen by a process of another ABI")
    if diff and all(_is_proof(d["key"]) for d in diff):
        proofs = ", ".join(f"{d['before']} \u2192 {d['after']}" for d in diff)
        notes.append(f"observation {proofs}: blocking proved by another rung of the ladder")
    return notes


def privilege_partial(b: dict, o: dict, base: dict, other: dict) -> list[str]:
    """A claim checked in part on one run because that run lacked a capability its
    'why' names, while the other held it."""
    fake_b = dict(b, verdict="not_applicable" if partial_cases(b) else b["verdict"],
                  reason="; ".join(str(p.get("why")) for p in partial_cases(b)))
    fake_o = dict(o, verdict="not_applicable" if partial_cases(o) else o["verdict"],
                  reason="; ".join(str(p.get("why")) for p in partial_cases(o)))
    if fake_b["verdict"] == fake_o["verdict"]:
        return []
    return privilege_explains(fake_b, fake_o, base, other)


def compare_pair(base: dict, other: dict) -> list[dict]:
    """Every claim whose verdict, partial cases or observed values differ between base
    and other.

    Each change: {id, kind, facility, claim, severity, before, after, partial_before,
    partial_after, reason_before, reason_after, observed: [{key, before, after}],
    expected: [notes], erratum}.  Sorted by kind order, then id.  A baseline claim that
    a selection did not run is 'unselected', not 'missing'."""
    bmap = {c["id"]: c for c in base.get("claims", [])}
    omap = {c["id"]: c for c in other.get("claims", [])}
    other_selected = selection_of(other) is not None
    changes = []
    for cid in sorted(set(bmap) | set(omap)):
        b, o = bmap.get(cid), omap.get(cid)
        diff, run_specific = observed_diff(
            b.get("observed"), o.get("observed"),
            set(b.get("run_specific") or ()) | set(o.get("run_specific") or ())) \
            if b and o else ([], 0)
        partial_differ = bool(b and o) and (
            [p.get("case") for p in partial_cases(b)] != [p.get("case") for p in partial_cases(o)])
        kind = classify(b["verdict"] if b else None, o["verdict"] if o else None, bool(diff),
                        partial_differ)
        if kind is None:
            continue
        if kind == "missing" and other_selected:
            kind = "unselected"
        ref = o or b
        # the union of both runs' catalogue notes: either side may know the change
        merged = dict(ref)
        merged["changes"] = list((b or {}).get("changes") or []) + [
            c for c in (o or {}).get("changes") or [] if c not in ((b or {}).get("changes") or [])]
        expected = expected_by(merged, base, other) if b and o else []
        if kind in ("not_applicable", "applicable") and not expected:
            expected = privilege_explains(b, o, base, other)
        if kind == "partial" and not expected:
            expected = privilege_partial(b, o, base, other)
        if kind == "value" and not expected:
            expected = value_explains(diff, base, other)
        changes.append({
            "id": cid,
            "kind": kind,
            "facility": ref.get("facility") or cid.split(".")[0],
            "claim": ref.get("claim") or "",
            "severity": ref.get("severity") or "",
            "before": b["verdict"] if b else None,
            "after": o["verdict"] if o else None,
            "partial_before": partial_cases(b),
            "partial_after": partial_cases(o),
            "reason_before": (b or {}).get("reason") or "",
            "reason_after": (o or {}).get("reason") or "",
            "observed": diff,
            "run_specific_differ": run_specific,
            "expected": expected,
            "erratum": ref.get("erratum"),
        })
    order = {k: i for i, k in enumerate(KINDS)}
    changes.sort(key=lambda c: (order[c["kind"]], c["id"]))
    return changes


def is_blocking(change: dict, fail_on_error: bool = False) -> bool:
    """An unexplained change that makes the exit status 1: holds -> violated, holds ->
    error (a kernel that refuses a call the claim needs, or a suite that broke on it:
    either way the claim is no longer shown to hold), a baseline claim missing from a
    full record; with fail_on_error any other new error too."""
    if change["expected"]:
        return False
    if change["kind"] in ("regression", "missing"):
        return True
    if change["after"] == "error" and change["before"] == "holds":
        return True
    return fail_on_error and change["after"] == "error" and change["before"] not in ("error", None)


def run_label(record: dict, name: str) -> str:
    host = record.get("host") or {}
    return f"{host.get('kernel_release') or '?'} {host.get('arch') or ''}".strip()


def short_names(names: list[str]) -> list[str]:
    """The shortest path tails that tell the files apart: record files are all called
    record.json, so 'host/record.json', 'debian-6.1/record.json'."""
    parts = [os.path.normpath(n).split(os.sep) for n in names]
    for k in range(1, max(len(p) for p in parts) + 1):
        tails = ["/".join(p[-k:]) for p in parts]
        if len(set(tails)) == len(tails):
            return tails
    return [f"{i + 1}:{n}" for i, n in enumerate(names)]  # the same file given twice


def build_comparison(records: list[dict], names: list[str],
                     fail_on_error: bool = False) -> dict:
    """The whole comparison as one dict; the baseline is records[0]."""
    if len(records) < 2:
        raise ValueError("need at least two records")
    shorts = short_names(names)
    runs = []
    for rec, name, short in zip(records, names, shorts):
        run = rec.get("run") or {}
        runs.append({"name": name, "short": short, "label": run_label(rec, name),
                     "started": run.get("started"), "suite_version": run.get("suite_version"),
                     "counts": verdict_counts(rec), "selection": selection_of(rec)})
    pairs = []
    for rec, name, short in zip(records[1:], names[1:], shorts[1:]):
        changes = compare_pair(records[0], rec)
        tally = {k: 0 for k in KINDS}
        for c in changes:
            tally[c["kind"]] += 1
        pairs.append({
            "name": name,
            "short": short,
            "label": run_label(rec, name),
            "changes": changes,
            "tally": tally,
            "unexplained": [c for c in changes if not c["expected"]],
            "expected": [c for c in changes if c["expected"]],
            "blocking": [c for c in changes if is_blocking(c, fail_on_error)],
        })
    blocking = sum(len(p["blocking"]) for p in pairs)
    return {"baseline": names[0], "runs": runs, "identity": identity(records),
            "pairs": pairs, "blocking": blocking, "exit_status": 1 if blocking else 0,
            "fail_on_error": fail_on_error, "selections": selection_notes(records, runs)}


def selection_notes(records: list[dict], runs: list[dict]) -> list[str]:
    """One line per record that is a selection: it is compared on what it ran, never as
    if it were the whole suite."""
    base_ids = {c["id"] for c in records[0].get("claims", [])}
    notes = []
    for i, (rec, run) in enumerate(zip(records, runs)):
        if not run["selection"]:
            continue
        ids = {c["id"] for c in rec.get("claims", [])}
        if i == 0:
            notes.append(f"the baseline {run['short']} is {run['selection']}: it has "
                         f"{len(ids)} claims, so claims it did not run show as new, not as "
                         "compared")
        else:
            notes.append(f"{run['short']} is {run['selection']}: {len(ids & base_ids)} of "
                         f"{len(base_ids)} baseline claims compared, the other "
                         f"{len(base_ids - ids)} were not run (not a full comparison)")
    return notes


# --------------------------------------------------------------------------
# Rendering helpers
# --------------------------------------------------------------------------

def _headline(cmp: dict) -> str:
    n = cmp["blocking"]
    partial = " [partial comparison: a record is a selection]" if cmp.get("selections") else ""
    if n:
        tally: dict[str, int] = {}
        for p in cmp["pairs"]:
            for c in p["blocking"]:
                what = ("new error" if c["after"] == "error" else
                        "missing claim" if c["kind"] == "missing" else "regression")
                tally[what] = tally.get(what, 0) + 1
        parts = ", ".join(f"{k} {w}{'s' if k > 1 else ''}" for w, k in tally.items())
        return (f"FAIL: {n} unexplained {'regression' if list(tally) == ['regression'] else 'finding'}"
                f"{'s' if n > 1 else ''} against the baseline ({parts}){partial}")
    expl = sum(len(p["expected"]) for p in cmp["pairs"])
    other = sum(len(p["unexplained"]) for p in cmp["pairs"])
    return (f"OK: no unexplained regression, new error or missing claim ({other} other "
            f"unexplained difference{'s' if other != 1 else ''}, {expl} expected by "
            f"version/config/capability){partial}")


_NOUNS = {
    "regression": ("regression", "regressions"), "error": ("new error", "new errors"),
    "fix": ("fix", "fixes"), "verdict": ("other verdict change", "other verdict changes"),
    "not_applicable": ("became not applicable", "became not applicable"),
    "applicable": ("became applicable", "became applicable"),
    "value": ("value change", "value changes"), "new": ("new claim", "new claims"),
    "missing": ("missing claim", "missing claims"),
    "partial": ("claim checked in part", "claims checked in part"),
    "unselected": ("claim not in the selection", "claims not in the selection"),
}


def _tally_text(pair: dict) -> str:
    """'1 regression, 2 value changes; 3 expected by version/config'."""
    tally = {k: 0 for k in KINDS}
    for c in pair["unexplained"]:
        tally[c["kind"]] += 1
    parts = [f"{n} {_NOUNS[k][n != 1]}" for k, n in tally.items() if n]
    text = ", ".join(parts) if parts else "no unexplained difference"
    return text + f"; {len(pair['expected'])} expected by version/config/capability"


def _brief(pair: dict) -> list[dict]:
    """The first-screen list: unexplained verdict changes, then the expected ones."""
    return ([c for c in pair["blocking"]]
            + [c for c in pair["unexplained"] if c not in pair["blocking"]
               and c["kind"] not in ("value", "new", "missing", "unselected")]
            + pair["expected"])


def _short_note(c: dict) -> str:
    if not c["expected"]:
        return ""
    heads = []
    for note in c["expected"]:
        head = note.split(":")[0]
        if head not in heads:
            heads.append(head)
    return "expected by " + ", ".join(heads)


def _side(verdict: str | None, partial: list) -> str:
    if verdict is None:
        return "(absent)"
    return f"{verdict} (partial)" if partial else verdict


def _verdict_arrow(c: dict) -> str:
    return (f"{_side(c['before'], c.get('partial_before'))} \u2192 "
            f"{_side(c['after'], c.get('partial_after'))}")


def _partial_text(c: dict) -> str:
    """'not run on B: case (why); ...' for the cases of the claim that did not run."""
    parts = []
    for side, cases in (("baseline", c.get("partial_before")), ("this run", c.get("partial_after"))):
        if cases:
            parts.append(f"not run on {side}: " + "; ".join(
                f"{p.get('case')} ({p.get('why')})" for p in cases))
    return "; ".join(parts)


def _reason(c: dict) -> str:
    if c["kind"] == "missing":
        return c["reason_before"]
    if c["reason_after"] and c["reason_after"] != c["reason_before"]:
        return c["reason_after"]
    return c["reason_after"] or ""


def _erratum_text(e: Any) -> str:
    if not isinstance(e, dict):
        return ""
    src = " / ".join(x for x in (e.get("document"), e.get("section")) if x)
    return f"source says: \u201c{e.get('wording', '')}\u201d" + (f" ({src})" if src else "")


def _groups(pair: dict) -> list[tuple[str, list[dict]]]:
    """(heading, changes) for the unexplained changes by kind, then the expected."""
    out = []
    for kind in KINDS:
        items = [c for c in pair["unexplained"] if c["kind"] == kind]
        if items:
            out.append((KIND_TITLES[kind], items))
    if pair["expected"]:
        out.append(("Expected by version/config/capability", pair["expected"]))
    return out


# --------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------

def _table(header: list[str], rows: list[list[str]], width: int) -> list[str]:
    cols = len(header)
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(cols)]
    # shrink the widest value columns (not the labels) until the table fits
    while sum(widths) + 2 * (cols - 1) > width and max(widths[1:]) > 12:
        i = widths.index(max(widths[1:]), 1)
        widths[i] -= 1

    def cell(text: str, w: int) -> str:
        text = str(text)
        return (text[: w - 1] + "\u2026") if len(text) > w else text.ljust(w)
    lines = ["  ".join(cell(h, w) for h, w in zip(header, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    for r in rows:
        lines.append("  ".join(cell(c, w) for c, w in zip(r, widths)).rstrip())
    return lines


def render_text(cmp: dict, width: int | None = None) -> str:
    width = width or min(shutil.get_terminal_size((100, 24)).columns, 140)
    short = [r["short"] for r in cmp["runs"]]
    out = [f"ipc-conformance comparison, baseline {short[0]} ({cmp['runs'][0]['label']})",
           _headline(cmp)]
    for note in cmp.get("selections") or []:
        out += textwrap.wrap(f"NOT A FULL COMPARISON: {note}", width=width,
                             subsequent_indent="    ")
    # first screen: per run, one line per verdict change (unexplained first)
    for p in cmp["pairs"]:
        flag = "  <- FAILS THE GATE" if p["blocking"] else ""
        out += textwrap.wrap(f"{p['short']} ({p['label']}): {_tally_text(p)}"
                             f"{flag}", width=width, subsequent_indent="    ")
        brief = _brief(p)
        for c in brief[:12]:
            note = _short_note(c)
            out.append(f"  {KIND_LABELS[c['kind']]:<14} {c['id']:<28} {_verdict_arrow(c)}"
                       + (f"  ({note})" if note else ""))
        if len(brief) > 12:
            out.append(f"  ... and {len(brief) - 12} more below")
    out.append("")
    header = [""] + [f"{s}{' (base)' if i == 0 else ''}" for i, s in enumerate(short)]
    rows = [[("* " if row["differs"] else "  ") + row["label"]] + row["values"]
            for row in cmp["identity"]]
    rows += [[v] + [str(r["counts"][v]) for r in cmp["runs"]] for v in VERDICTS]
    if any(r["counts"].get("partial") for r in cmp["runs"]):
        rows += [["  holds (partial)"] + [str(r["counts"].get("partial", 0)) for r in cmp["runs"]]]
    rows += [["claims"] + [str(r["counts"]["total"]) for r in cmp["runs"]]]
    out += _table(header, rows, width)
    out.append("(* differs between the runs)")
    wrap = textwrap.TextWrapper(width=max(width - 6, 40), initial_indent="      ",
                                subsequent_indent="      ")
    for p in cmp["pairs"]:
        out.append("")
        out.append(f"== {p['short']} ({p['label']}) vs baseline "
                   f"{short[0]} ==")
        if not p["changes"]:
            out.append("  no differences")
        for heading, items in _groups(p):
            out.append(f"-- {heading}: {len(items)}")
            for c in items:
                sev = f" [{c['severity']}]" if c["severity"] else ""
                out.append(f"  {KIND_LABELS[c['kind']]:<14} {c['id']}  {_verdict_arrow(c)}{sev}")
                if c["claim"]:
                    out += wrap.wrap(c["claim"])
                for d in c["observed"]:
                    out += wrap.wrap(f"observed {d['key']}: {d['before']} \u2192 {d['after']}")
                if _reason(c):
                    out += wrap.wrap(f"reason: {_reason(c)}")
                if _partial_text(c):
                    out += wrap.wrap(_partial_text(c))
                for note in c["expected"]:
                    out += wrap.wrap(f"expected by {note}")
                if c["erratum"]:
                    out += wrap.wrap(_erratum_text(c["erratum"]))
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------

def _md(text: Any) -> str:
    s = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    s = s.replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([`*_\[\]])", r"\\\1", s)


def _code(text: Any) -> str:
    """A Markdown code span: backslash escapes are literal inside one, so only the
    backtick (cannot occur) and the table pipe are handled."""
    return "`" + str(text).replace("`", "'").replace("|", "\\|").replace("\n", " ") + "`"


def render_markdown(cmp: dict) -> str:
    short = [r["short"] for r in cmp["runs"]]
    icon = "\u274c" if cmp["blocking"] else "\u2705"
    out = ["## ipc-conformance: kernel comparison", "",
           f"{icon} **{_md(_headline(cmp))}**", ""]
    for note in cmp.get("selections") or []:
        out += [f"> **Not a full comparison**: {_md(note)}", ""]
    for p in cmp["pairs"]:
        out.append(f"- {_code(p['short'])} ({_md(p['label'])}) vs baseline "
                   f"{_code(short[0])}: {_md(_tally_text(p))}" + (" \u2014 **fails the gate**" if p["blocking"] else ""))
        brief = _brief(p)
        for c in brief[:12]:
            note = _short_note(c)
            out.append(f"  - {'**' if c in p['blocking'] else ''}{KIND_LABELS[c['kind']]}"
                       f"{'**' if c in p['blocking'] else ''} {_code(c['id'])} "
                       f"{_md(_verdict_arrow(c))}" + (f" _({_md(note)})_" if note else ""))
        if len(brief) > 12:
            out.append(f"  - ... and {len(brief) - 12} more below")
    out += ["", "| | " + " | ".join(f"{_md(s)}{' (baseline)' if i == 0 else ''}"
                                   for i, s in enumerate(short)) + " |",
            "|---" * (len(short) + 1) + "|"]
    for row in cmp["identity"]:
        label = f"**{_md(row['label'])}**" if row["differs"] else _md(row["label"])
        out.append(f"| {label} | " + " | ".join(_md(v) for v in row["values"]) + " |")
    for v in VERDICTS:
        out.append(f"| {v} | " + " | ".join(str(r["counts"][v]) for r in cmp["runs"]) + " |")
    if any(r["counts"].get("partial") for r in cmp["runs"]):
        out.append("| holds (partial) | " + " | ".join(str(r["counts"].get("partial", 0))
                                                      for r in cmp["runs"]) + " |")
    for p in cmp["pairs"]:
        out += ["", f"### {_code(p['short'])} ({_md(p['label'])}) vs baseline"]
        if not p["changes"]:
            out += ["", "No differences."]
        for heading, items in _groups(p):
            expected = heading.startswith("Expected")
            body = ["", "| claim | change | verdict | observed | why / reason |",
                    "|---|---|---|---|---|"]
            for c in items:
                obs = "<br>".join(f"{_md(d['key'])}: {_md(d['before'])} \u2192 {_md(d['after'])}"
                                  for d in c["observed"])
                why = "<br>".join(["expected by " + _md(n) for n in c["expected"]]
                                  + ([_md(_reason(c))] if _reason(c) else [])
                                  + ([_md(_partial_text(c))] if _partial_text(c) else [])
                                  + ([_md(_erratum_text(c["erratum"]))] if c["erratum"] else []))
                body.append(f"| {_code(c['id'])}<br>{_md(c['claim'])} | {KIND_LABELS[c['kind']]} "
                            f"| {_md(_verdict_arrow(c))} | {obs} | {why} |")
            if expected or heading.startswith(("Observed", "New claims", "Not in the")):
                out += ["", f"<details><summary>{heading}: {len(items)}</summary>"] + body + \
                       ["", "</details>"]
            else:
                out += ["", f"#### {heading}: {len(items)}"] + body
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------

_CSS = """
body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.5em;color:#1d2228}
h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.15em;margin-top:1.6em}h3{font-size:1em}
.status{padding:.6em 1em;border-radius:6px;font-weight:600;margin:.6em 0}
.fail{background:#fde2e1;border:1px solid #d33}.ok{background:#e3f6e5;border:1px solid #2a2}
table{border-collapse:collapse;margin:.4em 0}th,td{border:1px solid #ccd;padding:.25em .5em;
vertical-align:top;text-align:left}th{background:#f0f2f5}
tr.differs td:first-child{font-weight:600}tr.differs td{background:#fff8e1}
.k-regression,.k-error{color:#b00;font-weight:700}.k-fix{color:#070;font-weight:700}
.k-value,.k-verdict{color:#a60;font-weight:700}.k-new,.k-missing,.k-applicable,.k-not_applicable{color:#446;font-weight:700}
.expected{color:#555}.sentence{color:#333}.note{font-size:.9em;color:#555}code{font-size:.95em}
.v-holds{color:#070}.v-violated{color:#b00}.v-error{color:#b00}.v-not_applicable{color:#777}
"""


def _h(text: Any) -> str:
    return html.escape(str(text), quote=True)


def render_html(cmp: dict) -> str:
    short = [r["short"] for r in cmp["runs"]]
    cls = "fail" if cmp["blocking"] else "ok"
    out = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
           "<meta name=\"viewport\" content=\"width=device-width\">",
           f"<title>ipc-conformance comparison: {_h(' vs '.join(short))}</title>",
           f"<style>{_CSS}</style></head><body>",
           "<h1>ipc-conformance: kernel comparison</h1>",
           f"<div class=\"status {cls}\" id=\"status\">{_h(_headline(cmp))}</div>"]
    for note in cmp.get("selections") or []:
        out.append(f"<p class=\"selection\"><b>Not a full comparison</b>: {_h(note)}</p>")
    out.append("<ul>")
    for p in cmp["pairs"]:
        out.append(f"<li><code>{_h(p['short'])}</code> ({_h(p['label'])}) vs "
                   f"baseline <code>{_h(short[0])}</code>: {_h(_tally_text(p))}"
                   + (" &mdash; <b>fails the gate</b>" if p["blocking"] else ""))
        brief = _brief(p)
        if brief:
            out.append("<ul class=\"brief\">")
            for c in brief[:12]:
                note = _short_note(c)
                out.append(f"<li><span class=\"k-{c['kind']}\">{KIND_LABELS[c['kind']]}</span> "
                           f"<code>{_h(c['id'])}</code> {_h(_verdict_arrow(c))}"
                           + (f" <span class=\"expected\">({_h(note)})</span>" if note else "")
                           + "</li>")
            if len(brief) > 12:
                out.append(f"<li>... and {len(brief) - 12} more below</li>")
            out.append("</ul>")
        out.append("</li>")
    out.append("</ul><h2>Runs</h2><table id=\"identity\"><tr><th></th>"
               + "".join(f"<th>{_h(s)}{' (baseline)' if i == 0 else ''}</th>"
                         for i, s in enumerate(short)) + "</tr>")
    for row in cmp["identity"]:
        out.append(f"<tr class=\"{'differs' if row['differs'] else ''}\"><td>{_h(row['label'])}"
                   "</td>" + "".join(f"<td>{_h(v)}</td>" for v in row["values"]) + "</tr>")
    for v in VERDICTS:
        out.append(f"<tr><td class=\"v-{v}\">{v}</td>"
                   + "".join(f"<td>{r['counts'][v]}</td>" for r in cmp["runs"]) + "</tr>")
    if any(r["counts"].get("partial") for r in cmp["runs"]):
        out.append("<tr><td class=\"v-holds\">holds (partial)</td>" + "".join(
            f"<td>{r['counts'].get('partial', 0)}</td>" for r in cmp["runs"]) + "</tr>")
    out.append("</table><p class=\"note\">Highlighted rows differ between the runs.</p>")
    for p in cmp["pairs"]:
        out.append(f"<h2>{_h(p['short'])} ({_h(p['label'])}) vs baseline</h2>")
        if not p["changes"]:
            out.append("<p>No differences.</p>")
        for heading, items in _groups(p):
            expected = heading.startswith("Expected")
            h3 = '<h3 class="expected">' if expected else "<h3>"
            out.append(f"{h3}{_h(heading)}: "
                       f"{len(items)}</h3><table class=\"changes\"><tr><th>claim</th><th>change"
                       "</th><th>verdict</th><th>observed</th><th>why / reason</th></tr>")
            for c in items:
                obs = "<br>".join(f"{_h(d['key'])}: {_h(d['before'])} &rarr; {_h(d['after'])}"
                                  for d in c["observed"])
                why = "<br>".join([f"<span class=\"expected\">expected by {_h(n)}</span>"
                                   for n in c["expected"]]
                                  + ([_h(_reason(c))] if _reason(c) else [])
                                  + ([_h(_partial_text(c))] if _partial_text(c) else [])
                                  + ([f"<i>{_h(_erratum_text(c['erratum']))}</i>"]
                                     if c["erratum"] else []))
                out.append(f"<tr data-claim=\"{_h(c['id'])}\"><td><code>{_h(c['id'])}</code><br>"
                           f"<span class=\"sentence\">{_h(c['claim'])}</span></td>"
                           f"<td class=\"k-{c['kind']}\">{KIND_LABELS[c['kind']]}</td>"
                           f"<td><span class=\"v-{_h(c['before'])}\">"
                           f"{_h(_side(c['before'], c['partial_before']))}"
                           f"</span> &rarr; <span class=\"v-{_h(c['after'])}\">"
                           f"{_h(_side(c['after'], c['partial_after']))}</span></td><td>{obs}</td>"
                           f"<td>{why}</td></tr>")
            out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def render_json(cmp: dict) -> str:
    return json.dumps(cmp, indent=2, ensure_ascii=False, default=str) + "\n"


RENDERERS = {"text": render_text, "markdown": render_markdown, "html": render_html,
             "json": render_json}


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m reports.compare",
        description="Compare ipc-conformance run records (schema 1); the first is the baseline.",
        epilog="Exit status: 0 nothing fails the gate; 1 an unexplained holds -> violated or "
               "holds -> error, or a baseline claim missing from a full record; 2 bad input.")
    p.add_argument("records", nargs="+", metavar="RECORD.json")
    p.add_argument("-f", "--format", choices=sorted(RENDERERS), default=None,
                   help="output format (default: text, or from the --output suffix "
                        ".md/.html/.json)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument("--fail-on-error", action="store_true",
                   help="also exit 1 on any other new error (violated -> error, not_applicable "
                        "-> error); holds -> error fails the gate without it")
    return p


def main(argv: Iterable[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # argparse prints its own message
        return 0 if exc.code == 0 else 2
    if len(args.records) < 2:
        print("compare: need at least two records (the first is the baseline)", file=sys.stderr)
        return 2
    records, bad = [], False
    for path in args.records:
        try:
            records.append(load_record(path))
        except RecordError as exc:
            print(f"compare: {exc}", file=sys.stderr)
            bad = True
    if bad:
        return 2
    fmt_name = args.format
    if fmt_name is None:
        suffix = os.path.splitext(args.output or "")[1].lower()
        fmt_name = {".md": "markdown", ".html": "html", ".htm": "html",
                    ".json": "json"}.get(suffix, "text")
    cmp = build_comparison(records, list(args.records), fail_on_error=args.fail_on_error)
    text = RENDERERS[fmt_name](cmp)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            print(f"compare: {args.output}: cannot write: {exc.strerror or exc}", file=sys.stderr)
            return 2
        print(_headline(cmp) + f" (written to {args.output})", file=sys.stderr)
    else:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:  # `| head`
            try:
                sys.stdout = open(os.devnull, "w")
            except OSError:
                pass
    return cmp["exit_status"]


if __name__ == "__main__":
    sys.exit(main())
