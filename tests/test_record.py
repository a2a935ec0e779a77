"""Self-tests of fixtures/record.py: verdicts per claim, the record, serial and -n 2 alike."""
import json
import os

import pytest

from fixtures.record import aggregate
from tests.scratch import make_suite, run

DEMO = '''
import os
import pytest

@pytest.mark.claim("demo.holds")
@pytest.mark.parametrize("n", [1, 2])
def test_holds(observe, n):
    observe("n", n)

@pytest.mark.claim("demo.holds")
def test_holds_too(observe, verdict_note):
    observe("capacity", 65536)
    observe("pid", os.getpid(), run_specific=True)
    verdict_note("not enforced: read went through")
    verdict_note("not enforced: write went through")

@pytest.mark.claim("demo.violated")
def test_violated():
    assert 4096 == 65536, "expected 65536, kernel gave 4096"

@pytest.mark.claim("demo.error")
def test_error():
    os.close(9999)

@pytest.mark.claim("demo.absent")
def test_absent():
    pytest.skip("needs CONFIG_DEMO (kernel built without it)")
'''


@pytest.fixture
def demo(pytester):
    return make_suite(pytester, DEMO)


def _verdicts(record):
    return {c["id"]: c["verdict"] for c in record["claims"]}


def test_verdicts_reasons_and_observed_values(pytester, monkeypatch, demo):
    result, record = run(pytester, monkeypatch, demo)
    assert result.ret == 1
    assert record["schema"] == 1
    assert _verdicts(record) == {"demo.holds": "holds", "demo.violated": "violated",
                                 "demo.error": "error", "demo.absent": "not_applicable"}
    claims = {c["id"]: c for c in record["claims"]}
    assert claims["demo.violated"]["reason"] == "expected 65536, kernel gave 4096"
    assert claims["demo.violated"]["erratum"]["wording"] == "the source's words"
    assert "EBADF" in claims["demo.error"]["reason"] or "Bad file" in claims["demo.error"]["reason"]
    assert claims["demo.absent"]["reason"] == "needs CONFIG_DEMO (kernel built without it)"
    assert {k: v for k, v in claims["demo.holds"]["observed"].items() if k != "pid"} \
        == {"n[1]": 1, "n[2]": 2, "capacity": 65536}
    assert claims["demo.holds"]["run_specific"] == ["pid"]
    # notes of a claim that holds become its reason, said once per head
    assert claims["demo.holds"]["reason"] == "not enforced: read went through, write went through"
    assert claims["demo.violated"]["run_specific"] == []
    assert len(claims["demo.holds"]["tests"]) == 3
    assert record["summary"] == {"holds": 1, "violated": 1, "not_applicable": 1, "error": 1}
    for key in ("kernel_release", "kernel_version", "arch", "uid", "capabilities", "kconfig",
                "sysctls", "rlimits", "libc", "python", "distro"):
        assert key in record["host"], key
    result.stdout.fnmatch_lines(["*IPC conformance*", "*holds: 1*violated: 1*",
                                 "VIOLATED  demo.violated*", "*expected 65536, kernel gave 4096*"])


def test_claim_id_is_in_the_test_id_and_selects(pytester, monkeypatch, demo):
    result, record = run(pytester, monkeypatch, demo, "-k", "demo.holds")
    assert result.ret == 0
    assert _verdicts(record) == {"demo.holds": "holds"}
    assert all("[demo.holds" in t["nodeid"] for t in record["claims"][0]["tests"])


def test_xdist_gives_the_same_record(pytester, monkeypatch, demo):
    _, serial = run(pytester, monkeypatch, demo)
    _, parallel = run(pytester, monkeypatch, demo, "-n", "2")
    strip = lambda rec: [{k: c[k] for k in ("id", "verdict", "reason", "run_specific")}  # noqa: E731
                         | {"observed": {n: v for n, v in c["observed"].items()
                                         if n not in c["run_specific"]}}
                         for c in rec["claims"]]
    assert strip(serial) == strip(parallel)
    assert parallel["run"]["workers"] == 2


def test_allure_results_are_labelled(pytester, monkeypatch, demo):
    _, record = run(pytester, monkeypatch, demo)
    out = pytester.path / "out" / "allure-results"
    results = [json.loads(p.read_text()) for p in out.glob("*-result.json")]
    labels = {(lab["name"], lab["value"]) for r in results for lab in r["labels"]}
    assert ("epic", "demo") in labels and ("story", "demo.violated") in labels
    assert ("severity", "critical") in labels
    assert any(link["url"].startswith("https://man7.org/") for r in results for link in r["links"])
    assert (out / "environment.properties").read_text().startswith("kernel=")


def test_unknown_claim_is_an_error(pytester, monkeypatch):
    suites = make_suite(pytester, '''
import pytest

@pytest.mark.claim("demo.nonexistent")
def test_x():
    pass
''')
    result, record = run(pytester, monkeypatch, suites)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*names claims not in the catalogue*demo.nonexistent*"])


def test_aggregate_prefers_the_worst_verdict():
    tests = {
        "a": {"nodeid": "a", "claims": ["x"], "verdict": "holds", "outcome": "passed",
              "message": "", "duration_s": 0.1, "observed": {"v": 1}},
        "b": {"nodeid": "b", "claims": ["x"], "verdict": "violated", "outcome": "failed",
              "message": "expected 1, got 2", "duration_s": 0.2, "observed": {}},
        "c": {"nodeid": "c", "claims": ["y"], "verdict": "not_applicable", "outcome": "skipped",
              "message": "needs X", "duration_s": 0.0, "observed": {}},
    }
    out = aggregate(tests)
    assert out["x"]["verdict"] == "violated" and out["x"]["reason"] == "expected 1, got 2"
    assert out["x"]["observed"] == {"v": 1} and out["x"]["duration_s"] == pytest.approx(0.3)
    assert out["y"]["verdict"] == "not_applicable" and out["y"]["reason"] == "needs X"
