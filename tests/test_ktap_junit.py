"""Self-tests for the kernel-CI formats written beside the record: KTAP v1 and JUnit XML."""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from reports import junit, ktap

DATA = Path(__file__).parent / "data" / "records"


@pytest.fixture(scope="module")
def record():
    return json.loads((DATA / "other-5.10.json").read_text())


# -- KTAP ---------------------------------------------------------------------------------------

RESULT = re.compile(r"^(ok|not ok) (\d+) ([^#\s][^#]*?)(?: # (SKIP|partial:)(?: (.*))?)?$")


def parse_ktap(text: str) -> dict:
    """A small KTAP v1 reader: what LKFT's parsers (and kunit_parser.py) rely on."""
    lines = text.splitlines()
    assert lines[0] == "KTAP version 1"
    plan = next(l for l in lines if re.fullmatch(r"1\.\.\d+", l))
    results, diags = [], []
    for line in lines[1:]:
        if line.startswith("#"):
            assert line.startswith("# ") or line == "#"
            diags.append(line)
            continue
        if line == plan:
            continue
        m = RESULT.match(line)
        assert m, f"not a KTAP line: {line!r}"
        results.append({"ok": m.group(1) == "ok", "n": int(m.group(2)), "name": m.group(3),
                        "skip": m.group(4) == "SKIP", "reason": m.group(5) or ""})
    return {"plan": int(plan[3:]), "results": results, "diags": diags}


def test_ktap_structure(record):
    text = ktap.render(record)
    parsed = parse_ktap(text)
    assert parsed["plan"] == len(record["claims"]) == len(parsed["results"])
    assert [r["n"] for r in parsed["results"]] == list(range(1, parsed["plan"] + 1))
    assert [r["name"] for r in parsed["results"]] == [c["id"] for c in record["claims"]]
    assert text.splitlines()[1] == "# ipc-conformance 0.1.0 on 5.10.0-28-amd64 x86_64"
    assert text.endswith("\n")


def test_ktap_verdicts(record):
    parsed = parse_ktap(ktap.render(record))
    res = {r["name"]: r for r in parsed["results"]}
    verdict = {c["id"]: c["verdict"] for c in record["claims"]}
    for cid, v in verdict.items():
        r = res[cid]
        assert r["ok"] == (v in ("holds", "not_applicable")), cid
        assert r["skip"] == (v == "not_applicable"), cid
    assert res["sysv.tools"]["reason"] == \
        "ipcs not found in PATH; install util-linux (Debian: util-linux) to check it"
    text = "\n".join(parsed["diags"])
    assert "# pipe.atomic.small: violated: 3 of 4000 PIPE_BUF-sized records came back interleaved" \
        in text
    assert "# pipe.atomic.small: observed interleaved = 3" in text
    assert "# psem.eintr: error: Timeout: sem_wait did not return within 10 s" in text
    assert parsed["diags"][-1] == "# Totals: pass:12 fail:2 xfail:0 xpass:0 skip:1 error:1"


def test_ktap_diagnostics_precede_their_result(record):
    lines = ktap.render(record).splitlines()
    i = lines.index(next(l for l in lines if l.endswith(" pipe.atomic.small")))
    assert lines[i].startswith("not ok")
    assert lines[i - 1].startswith("# pipe.atomic.small: ")


def test_ktap_holds_with_a_note(record):
    """A claim that holds with a note (which behaviour this kernel showed) keeps it as a diagnostic."""
    rec = copy.deepcopy(record)
    held = next(c for c in rec["claims"] if c["verdict"] == "holds")
    held["reason"] = "mand ignored: the read went through"
    lines = ktap.render(rec).splitlines()
    i = lines.index(next(l for l in lines if l.endswith(" " + held["id"])))
    assert lines[i].startswith("ok ") and "# SKIP" not in lines[i]
    assert lines[i - 1] == f"# {held['id']}: mand ignored: the read went through"


def test_ktap_one_line_reasons_and_safe_names(record):
    rec = copy.deepcopy(record)
    rec["claims"][0].update(verdict="not_applicable", reason="no ipcs\n  install util-linux\t!")
    rec["claims"][1].update(id="odd#id", verdict="error", reason="line1\nline2")
    parsed = parse_ktap(ktap.render(rec))
    assert parsed["results"][0]["reason"] == "no ipcs install util-linux !"
    assert parsed["results"][1]["name"] == "odd_id"
    assert "# odd_id: error: line1 line2" in parsed["diags"]


def test_ktap_empty_record():
    text = ktap.render({"schema": 1, "host": {}, "run": {}, "claims": []})
    assert text.splitlines()[:3] == ["KTAP version 1", "# ipc-conformance  on unknown kernel"
                                     .replace("  ", " "), "1..0"]


# -- JUnit --------------------------------------------------------------------------------------

def test_junit_structure(record):
    root = ET.fromstring(junit.render(record))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    facilities = sorted({c["facility"] for c in record["claims"]})
    assert [s.get("name") for s in suites] == facilities
    cases = root.findall("testsuite/testcase")
    assert len(cases) == len(record["claims"]) == int(root.get("tests"))
    for s in suites:
        assert all(c.get("classname") == s.get("name") for c in s.findall("testcase"))
        assert int(s.get("tests")) == len(s.findall("testcase"))
        assert s.get("hostname") == "lkft-x86-03"
    assert (root.get("failures"), root.get("errors"), root.get("skipped")) == ("2", "1", "1")
    assert float(root.get("time")) == pytest.approx(5.1)


def test_junit_verdicts(record):
    root = ET.fromstring(junit.render(record))
    case = {c.get("name"): c for c in root.iter("testcase")}
    assert float(case["fifo.rdwr"].get("time")) == pytest.approx(0.004)
    fail = case["pipe.atomic.small"].find("failure")
    assert fail.get("message") == "3 of 4000 PIPE_BUF-sized records came back interleaved"
    err = case["psem.eintr"].find("error")
    assert err.get("message") == "Timeout: sem_wait did not return within 10 s"
    skip = case["sysv.tools"].find("skipped")
    assert skip.get("message").startswith("ipcs not found in PATH")
    ok = case["fifo.rdwr"]
    assert ok.find("failure") is None and ok.find("error") is None and ok.find("skipped") is None


def test_junit_properties(record):
    root = ET.fromstring(junit.render(record))
    suite_props = {p.get("name"): p.get("value") for p in root.find("testsuite/properties")}
    assert suite_props["host.kernel_release"] == "5.10.0-28-amd64"
    assert suite_props["host.kconfig.CONFIG_MANDATORY_FILE_LOCKING"] == "y"
    assert suite_props["host.distro"] == "Debian GNU/Linux 11 (bullseye)"
    case = {c.get("name"): c for c in root.iter("testcase")}
    props = [(p.get("name"), p.get("value")) for p in case["pipe.atomic.small"].find("properties")]
    assert ("observed.interleaved", "3") in props
    assert ("verdict", "violated") in props
    assert ("claim", "Writes of <= PIPE_BUF bytes are atomic: concurrent writers' records "
                     "never interleave.") in props
    errata = dict((n, v) for n, v in
                  ((p.get("name"), p.get("value")) for p in case["fifo.rdwr"].find("properties")))
    assert errata["erratum.wording"] == "a FIFO cannot be opened read-write"
    assert "suites/pthread/" in case["pthread.mutex_owner_dies"].find("system-out").text


def test_junit_escapes_and_control_chars(record):
    rec = copy.deepcopy(record)
    rec["claims"][0].update(verdict="violated", reason="a <b> & \"c\" \x01\x1b[0m",
                            observed={"bytes": "\x00\x07"})
    root = ET.fromstring(junit.render(rec))  # still well-formed XML
    fail = root.find("testsuite/testcase/failure")
    assert fail.get("message").startswith('a <b> & "c" ')


# -- partial claims (holds, some cases not run) -------------------------------------------------

def partial_record(record):
    rec = copy.deepcopy(record)
    claim = next(c for c in rec["claims"] if c["id"] == "fifo.rdwr")
    claim["partial"] = [{"case": "as nobody", "why": "needs CAP_SETUID\nto run a second uid"},
                        {"case": "O_DIRECT", "why": "EINVAL"}]
    return rec


def test_ktap_partial(record):
    text = ktap.render(partial_record(record))
    line = next(l for l in text.splitlines() if " fifo.rdwr" in l and l.startswith("ok"))
    assert line.endswith("fifo.rdwr # partial: not run: as nobody: needs CAP_SETUID to run a "
                         "second uid; O_DIRECT: EINVAL")
    parsed = parse_ktap(text)
    assert parsed["plan"] == len(parsed["results"])
    assert "pass:" in text.splitlines()[-1]  # still counted as a pass


def test_junit_partial(record):
    root = ET.fromstring(junit.render(partial_record(record)))
    case = root.find(".//testcase[@name='fifo.rdwr']")
    props = [p.get("value") for p in case.iter("property") if p.get("name") == "partial"]
    assert props == ["as nobody: needs CAP_SETUID\nto run a second uid", "O_DIRECT: EINVAL"]
    assert case.find("failure") is None and case.find("skipped") is None
    assert case.find("system-out").text.startswith("holds (partial): not run: as nobody")
