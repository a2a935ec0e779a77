"""The terminal summary of a conformance run: what a person reads when pytest ends.

    summarise(tr, record, record_path)   tr: pytest's terminal reporter

In claims, not tests: the kernel and privilege, the claims per verdict (holds in part
counted), one line per facility, then one line (or two) for every claim that does not
plainly hold: violated and error with what was expected and what the kernel did,
not_applicable with why, partial with the cases that did not run and why; the leaks; and
where the record, the KTAP and JUnit files and the Allure results are.
"""
from __future__ import annotations

import os

from fixtures import leaks
from reports.records import VERDICTS, partial_cases, selection_of


def privilege(host: dict) -> str:
    caps = host.get("capabilities") or {}
    missing = caps.get("missing") or []
    if not missing:
        return "all capabilities"
    if str(caps.get("effective") or "").strip("0") == "":
        return "no capabilities"
    return "missing " + ", ".join(missing)


def tally(claims: list[dict]) -> str:
    """'32 holds (1 partial), 1 not_applicable' (verdicts with no claim left out)."""
    parts = []
    for v in VERDICTS:
        n = sum(1 for c in claims if c["verdict"] == v)
        if not n:
            continue
        partial = sum(1 for c in claims if partial_cases(c)) if v == "holds" else 0
        parts.append(f"{n} {v}" + (f" ({partial} partial)" if partial else ""))
    return ", ".join(parts) or "no claims"


def facility_lines(claims: list[dict]) -> list[str]:
    by_facility: dict[str, list[dict]] = {}
    for c in claims:
        by_facility.setdefault(c.get("facility") or c["id"].split(".")[0], []).append(c)
    width = max((len(f) for f in by_facility), default=0)
    return [f"  {fac:<{width}}  {len(cs):>3} claims: {tally(cs)}"
            for fac, cs in sorted(by_facility.items())]


def claim_lines(claims: list[dict]) -> list[tuple[str, bool]]:
    """(line, red) for every claim that does not plainly hold, worst first."""
    out: list[tuple[str, bool]] = []
    for verdict in ("violated", "error"):
        for c in claims:
            if c["verdict"] != verdict:
                continue
            out.append((f"{verdict.upper():9} {c['id']}: {c.get('claim') or ''}", True))
            out.append((f"          {c.get('reason') or '(no reason recorded)'}", False))
            if c.get("erratum"):
                out.append((f"          (source says: {c['erratum'].get('wording')})", False))
    for c in claims:
        if c["verdict"] == "not_applicable":
            out.append((f"N/A       {c['id']}: {c.get('reason') or '(no reason recorded)'}", False))
    for c in claims:
        for p in partial_cases(c):
            out.append((f"PARTIAL   {c['id']}: not run: {p.get('case')}: {p.get('why')}", False))
    return out


def where(record_path: str, alluredir: str | None) -> list[str]:
    """Where the outputs are, relative to the current directory when that is shorter."""
    def rel(path: str) -> str:
        r = os.path.relpath(path)
        return r if not r.startswith("../..") else path
    out = os.path.dirname(record_path)
    lines = [f"record: {rel(record_path)}"]
    beside = [f"{what} {rel(os.path.join(out, name))}" for what, name in
              (("KTAP", "ktap.txt"), ("JUnit", "junit.xml"))
              if os.path.exists(os.path.join(out, name))]
    if alluredir and os.path.isdir(alluredir):
        beside.append(f"Allure results {rel(alluredir)}/ (./ipcc report makes report.html)")
    if beside:
        lines.append("        " + "; ".join(beside))
    return lines


def summarise(tr, record: dict, record_path: str) -> None:
    """Write the IPC conformance section to pytest's terminal reporter `tr`."""
    tr.section("IPC conformance")
    host = record.get("host") or {}
    claims = record.get("claims") or []
    tr.write_line(f"kernel {host.get('kernel_release')} {host.get('arch')}, uid "
                  f"{host.get('uid')}, {privilege(host)}")
    selection = selection_of(record)
    partial = sum(1 for c in claims if partial_cases(c))
    tr.write_line(f"{len(claims)} claims  "
                  + "  ".join(f"{v}: {sum(1 for c in claims if c['verdict'] == v)}"
                              for v in VERDICTS)
                  + (f"  ({partial} of the holds partial)" if partial else "")
                  + (f"  [{selection}, not the whole suite]" if selection else ""))
    for line in facility_lines(claims):
        tr.write_line(line)
    for line, red in claim_lines(claims):
        tr.write_line(line, red=True) if red else tr.write_line(line)
    leaks.summarise(tr, record.get("leaks") or [])
    config = getattr(tr, "config", None)
    alluredir = getattr(getattr(config, "option", None), "allure_report_dir", None)
    for line in where(record_path, alluredir):
        tr.write_line(line)
