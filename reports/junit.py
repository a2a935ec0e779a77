"""JUnit XML for a run record (schema 1), for kernel CI dashboards.

    render(record) -> str

One <testsuite> per facility, one <testcase> per claim: classname = facility,
name = claim id, time = the claim's duration_s.  violated -> <failure
message=reason>, error -> <error message=reason>, not_applicable -> <skipped
message=reason>; a claim that holds with cases not run has a property "partial" per case
("case: why") and says so in <system-out>.  Host facts are <properties> of every testsuite; the claim's sentence, severity, sources, man pages, kernel
notes, erratum wording and observed values are <properties> of its testcase,
and the claim's tests (node ids and outcomes) go to <system-out>.

    python -m reports.junit record.json   # prints the XML
"""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
from collections import OrderedDict

from reports.records import partial_cases

# characters XML 1.0 cannot carry at all
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

HOST_PROPERTIES = ("hostname", "kernel_release", "kernel_version", "arch", "page_size", "uid",
                   "gid", "libc", "python", "distro", "container", "kconfig_source")


def _s(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return _BAD_XML.sub("\ufffd", value)


def _prop(parent: ET.Element, name: str, value: object) -> None:
    ET.SubElement(parent, "property", name=_s(name), value=_s(value))


def _host_properties(parent: ET.Element, record: dict) -> None:
    host = record.get("host") or {}
    props = ET.SubElement(parent, "properties")
    for key in HOST_PROPERTIES:
        if key in host:
            _prop(props, f"host.{key}", host[key])
    caps = host.get("capabilities")
    if isinstance(caps, dict):
        _prop(props, "host.capabilities.effective", caps.get("effective"))
        _prop(props, "host.capabilities.missing", " ".join(caps.get("missing") or []))
    for section in ("kconfig", "sysctls", "rlimits"):
        for key, value in sorted((host.get(section) or {}).items()):
            _prop(props, f"host.{section}.{key}", "not set" if value is None and section == "kconfig"
                  else value)
    run = record.get("run") or {}
    for key in ("suite_version", "started", "args"):
        if key in run:
            _prop(props, f"run.{key}", run[key])


def _seconds(value: object) -> str:
    try:
        return f"{float(value):.6f}"
    except (TypeError, ValueError):
        return "0"


def render(record: dict) -> str:
    run = record.get("run") or {}
    host = record.get("host") or {}
    by_facility: "OrderedDict[str, list]" = OrderedDict()
    for claim in record.get("claims") or []:
        fac = claim.get("facility") or str(claim.get("id", "")).split(".")[0]
        by_facility.setdefault(fac, []).append(claim)

    root = ET.Element("testsuites", name="ipc-conformance")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
    for fac in sorted(by_facility):
        claims = by_facility[fac]
        suite = ET.SubElement(root, "testsuite", name=_s(fac))
        counts = {"tests": len(claims), "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
        _host_properties(suite, record)
        for claim in claims:
            verdict = claim.get("verdict")
            reason = _s(claim.get("reason"))
            case = ET.SubElement(suite, "testcase", classname=_s(fac), name=_s(claim.get("id")),
                                 time=_seconds(claim.get("duration_s")))
            try:
                counts["time"] += float(claim.get("duration_s") or 0)
            except (TypeError, ValueError):
                pass
            props = ET.SubElement(case, "properties")
            _prop(props, "verdict", verdict)
            for key in ("claim", "severity", "linux"):
                if claim.get(key):
                    _prop(props, key, claim[key])
            for src in claim.get("sources") or []:
                if isinstance(src, dict):
                    _prop(props, "source", " / ".join(_s(src.get(k)) for k in ("document", "section")
                                                      if src.get(k)))
            for man in claim.get("man") or []:
                _prop(props, "man", man)
            if claim.get("kernel"):
                _prop(props, "kernel", claim["kernel"])
            for change in claim.get("changes") or []:
                _prop(props, "change", change)
            erratum = claim.get("erratum")
            if isinstance(erratum, dict):
                _prop(props, "erratum.wording", erratum.get("wording"))
                _prop(props, "erratum.source", " / ".join(_s(erratum.get(k)) for k in
                                                           ("document", "section") if erratum.get(k)))
            for key, value in sorted((claim.get("observed") or {}).items()):
                _prop(props, f"observed.{key}", value)
            partial = partial_cases(claim)
            for p in partial:
                _prop(props, "partial", f"{p.get('case')}: {p.get('why')}")
            if verdict == "violated":
                counts["failures"] += 1
                el = ET.SubElement(case, "failure", message=reason or "claim violated", type="violated")
                el.text = reason
            elif verdict == "not_applicable":
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=reason or "not applicable")
            elif verdict != "holds":
                counts["errors"] += 1
                el = ET.SubElement(case, "error", message=reason or f"verdict {verdict!r}",
                                   type=_s(verdict or "error"))
                el.text = reason
            tests = claim.get("tests") or []
            if tests or partial:
                out = ET.SubElement(case, "system-out")
                out.text = "\n".join(
                    [_s(f"holds (partial): not run: {p.get('case')}: {p.get('why')}")
                     for p in partial]
                    + [_s(f"{t.get('outcome')} {t.get('nodeid')} "
                          f"({t.get('duration_s')} s) {t.get('message') or ''}").rstrip()
                       for t in tests if isinstance(t, dict)])
        for key in ("tests", "failures", "errors", "skipped"):
            suite.set(key, str(counts[key]))
            totals[key] += counts[key]
        suite.set("time", f"{counts['time']:.6f}")
        suite.set("hostname", _s(host.get("hostname")))
        if run.get("started"):
            suite.set("timestamp", _s(run["started"]))
        totals["time"] += counts["time"]
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(totals[key]))
    root.set("time", _seconds(run.get("duration_s", totals["time"])))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def main(argv: list[str] | None = None) -> int:
    from reports.records import render_main
    return render_main("junit", render, sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
