"""The comparison model: records -> one dict that every renderer reads.

``compare_pair`` (two records -> the claims that changed, each with its kind and what
explains it), ``build_comparison`` (records -> runs, identity, pairs, gate), and the
wording shared by the renderers (headline, tallies, verdict arrows).  The human report
(reports.html_report) builds its claims x kernels matrix from the same functions.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Iterable

from reports.records import (kernel_version, parse_version, partial_cases,
                             selection_of, verdict_counts, version_lt)

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
    ("python", lambda h: h.get("python")),
    ("pip", lambda h: h.get("pip")),
    ("uid", lambda h: h.get("uid")),
    ("capabilities", lambda h: _caps(h.get("capabilities"))),
    ("container", lambda h: h.get("container")),
    ("sandbox", lambda h: _sandbox(h.get("sandbox"))),
    ("page size", lambda h: h.get("page_size")),
    ("host", lambda h: h.get("hostname")),
    ("kconfig from", lambda h: h.get("kconfig_source")),
)

_ABSENT = object()


def _sandbox(box: Any) -> Any:
    """'gVisor runsc 0.0~2024... (runsc do --network=none)' from host.sandbox, None without one."""
    if not isinstance(box, dict):
        return box
    flags = " ".join(box.get("flags") or [])
    return (f"{box.get('runtime', '?')} {box.get('version', '')} "
            f"({box.get('runner', '')}{' ' + flags if flags else ''})").replace("  ", " ")


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
        if section == "kconfig":  # an unreadable config shows its options as unknown
            maps = [known_kconfig({"host": h}) for h in hosts]
        keys = sorted(set().union(*[m.keys() for m in maps]))
        for key in keys:
            values = [m.get(key, _ABSENT) for m in maps]
            texts = [shown(v) for v in values]
            if len(set(texts)) > 1:
                rows.append({"label": f"{section[:-1] if section != 'kconfig' else 'kconfig'} {key}",
                             "values": texts, "differs": True, "section": section})
    return rows



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


def _case_of(key: str) -> tuple[str, str | None]:
    """('name', 'case') of an observed key 'name[case]'; ('name', None) for a bare one."""
    if key.endswith("]") and "[" in key:
        name, _, case = key[:-1].partition("[")
        return name, case
    return key, None


def _expand_compacted(values: dict, other: dict) -> dict:
    """A record writes a fact once ('name') when every case saw the same value, per case
    ('name[case]') when they differ: spread a bare name over the cases the other run names,
    so that the two compare case by case instead of as absent on both sides."""
    cases: dict[str, list[str]] = {}
    for key in other:
        name, case = _case_of(key)
        if case is not None:
            cases.setdefault(name, []).append(key)
    out = dict(values)
    for name, keys in cases.items():
        if name in out and name not in other and not any(k in out for k in keys):
            value = out.pop(name)
            out.update({k: value for k in keys})
    return out


def observed_diff(before: dict | None, after: dict | None,
                  run_specific: Iterable[str] = ()) -> tuple[list[dict], int]:
    """([{key, before, after}] for the observed values that differ, how many of the values
    that differ are run-specific and so left out: pids, ids, inodes, times, race outcomes,
    which differ between any two runs, on one kernel too)."""
    b = before if isinstance(before, dict) else {}
    a = after if isinstance(after, dict) else {}
    b, a = _expand_compacted(b, a), _expand_compacted(a, b)
    skip = set(run_specific)
    skip |= {k for k in set(a) | set(b) if _case_of(k)[0] in skip}
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


def known_kconfig(run: dict) -> dict:
    """The run's kconfig values, or {} when its kernel's config could not be read (a sandbox,
    a kernel without /proc/config.gz): an unknown config is not "not set" and explains nothing."""
    host = run.get("host") or {}
    if "kconfig_source" in host and host.get("kconfig_source") is None:
        return {}
    return host.get("kconfig") or {}


def expected_by(claim: dict, base: dict, other: dict) -> list[str]:
    """Notes from the claim's catalogue entry that explain a difference between
    the two runs: a `changes` version the two kernels straddle, a `changes`
    kconfig option (or an option the claim needs) set differently, a `changes`
    capability that one run held and the other did not, or the
    claim's `kernel` range (since/until) with one kernel in and one out."""
    notes: list[str] = []
    kb, ko = kernel_version(base), kernel_version(other)
    cb, co = known_kconfig(base), known_kconfig(other)

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


_INT = re.compile(r"-?\d+")


def _same_in_pages(before: str, after: str, page_b: int, page_a: int) -> bool:
    """True when the two texts differ only in numbers that are the same count of pages plus
    the same remainder on each run's page size (65536 on 4 KiB pages is 262144 on 16 KiB ones,
    4196 is 16484), with at least one such number."""
    nb, na = _INT.findall(before), _INT.findall(after)
    if len(nb) != len(na) or _INT.sub("#", before) != _INT.sub("#", after):
        return False
    scaled = False
    for x, y in zip(map(int, nb), map(int, na)):
        if x == y:
            continue
        if x < page_b or y < page_a or divmod(x, page_b) != divmod(y, page_a):
            return False
        scaled = True
    return scaled


def value_explains(diff: list[dict], base: dict, other: dict, claims=()) -> list[str]:
    """Notes for observed values that differ for a reason other than the kernel's
    behaviour: the process ABI of the two runs (x86_64 and i386 see other sizes and
    syscall numbers), where a run's test said so ("expected by ABI" in its reason), or
    only the rung of the observation ladder that proved blocking."""
    notes = []
    abi = [(r.get("host") or {}).get("abi") for r in (base, other)]
    said = any("expected by ABI" in ((c or {}).get("reason") or "") for c in claims)
    pages = [(r.get("host") or {}).get("page_size") for r in (base, other)]
    if diff and None not in pages and pages[0] != pages[1] and all(
            _same_in_pages(d["before"], d["after"], *pages) for d in diff):
        notes.append(f"page size {pages[0]} \u2192 {pages[1]}: the same number of pages")
    if None not in abi and abi[0] != abi[1] and said:
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
        if b and o and "not_applicable" not in (b["verdict"], o["verdict"]):
            # the facility was there on both runs: needing its option explains nothing
            expected = [n for n in expected if not n.endswith(": the facility needs it")]
        if kind in ("not_applicable", "applicable") and not expected:
            expected = privilege_explains(b, o, base, other)
        if kind == "partial" and not expected:
            expected = privilege_partial(b, o, base, other)
        if kind == "value" and not expected:
            expected = value_explains(diff, base, other, (b, o))
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
            # claims a selection did not run are no finding: said apart, never 'unexplained'
            "unexplained": [c for c in changes if not c["expected"] and c["kind"] != "unselected"],
            "unselected": [c for c in changes if c["kind"] == "unselected"],
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

def headline(cmp: dict) -> str:
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


def tally_text(pair: dict) -> str:
    """'1 regression, 2 value changes; 3 expected by version/config'."""
    tally = {k: 0 for k in KINDS}
    for c in pair["unexplained"]:
        tally[c["kind"]] += 1
    parts = [f"{n} {_NOUNS[k][n != 1]}" for k, n in tally.items() if n]
    text = ", ".join(parts) if parts else "no unexplained difference"
    text += f"; {len(pair['expected'])} expected by version/config/capability"
    n = len(pair.get("unselected") or ())
    return text + (f"; {n} {_NOUNS['unselected'][n != 1]}" if n else "")


def brief(pair: dict) -> list[dict]:
    """The first-screen list: unexplained verdict changes, then the expected ones."""
    return ([c for c in pair["blocking"]]
            + [c for c in pair["unexplained"] if c not in pair["blocking"]
               and c["kind"] not in ("value", "new", "missing", "unselected")]
            + pair["expected"])


def short_note(c: dict) -> str:
    if not c["expected"]:
        return ""
    heads = []
    for note in c["expected"]:
        head = note.split(":")[0]
        if head not in heads:
            heads.append(head)
    return "expected by " + ", ".join(heads)


def side(verdict: str | None, partial: list) -> str:
    if verdict is None:
        return "(absent)"
    return f"{verdict} (partial)" if partial else verdict


def verdict_arrow(c: dict) -> str:
    return (f"{side(c['before'], c.get('partial_before'))} \u2192 "
            f"{side(c['after'], c.get('partial_after'))}")


def partial_text(c: dict) -> str:
    """'not run on B: case (why); ...' for the cases of the claim that did not run."""
    parts = []
    for side, cases in (("baseline", c.get("partial_before")), ("this run", c.get("partial_after"))):
        if cases:
            parts.append(f"not run on {side}: " + "; ".join(
                f"{p.get('case')} ({p.get('why')})" for p in cases))
    return "; ".join(parts)


def reason_of(c: dict) -> str:
    if c["kind"] == "missing":
        return c["reason_before"]
    if c["reason_after"] and c["reason_after"] != c["reason_before"]:
        return c["reason_after"]
    return c["reason_after"] or ""


def erratum_text(e: Any) -> str:
    if not isinstance(e, dict):
        return ""
    src = " / ".join(x for x in (e.get("document"), e.get("section")) if x)
    return f"source says: \u201c{e.get('wording', '')}\u201d" + (f" ({src})" if src else "")


def groups(pair: dict) -> list[tuple[str, list[dict]]]:
    """(heading, changes) for the unexplained changes by kind, then the expected."""
    out = []
    for kind in KINDS:
        items = [c for c in pair["unexplained"] if c["kind"] == kind]
        if items:
            out.append((KIND_TITLES[kind], items))
    if pair["expected"]:
        out.append(("Expected by version/config/capability", pair["expected"]))
    return out  # claims a selection did not run: counted in the tally, not listed one by one

