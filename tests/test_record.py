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
    from fixtures.verdict import precondition
    with precondition("close a scratch descriptor"):
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
    assert claims["demo.error"]["reason"].startswith(
        "SuiteError: could not close a scratch descriptor: kernel gave EBADF (Bad file descriptor)")
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


@pytest.mark.timeout(180)  # whole pytest runs in subprocesses: slow on a busy machine
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


RULES = '''
import errno
import os
import pytest
from fixtures import libc
from fixtures.verdict import variant

@pytest.mark.claim("demo.violated")
def test_refused_call_is_violated(ipc):
    libc.msgrcv(ipc.msgq(), 16, -2, libc.IPC_NOWAIT)

@pytest.mark.claim("demo.error")
def test_python_breakage_is_an_error():
    {}["no such key"]

@pytest.mark.claim("demo.holds")
@pytest.mark.parametrize("way", ["works", "refused"])
def test_one_way_refused(way, partial):
    with variant(f"making it the {way} way"):
        if way == "refused":
            raise OSError(errno.EINVAL, "pipe2")
    partial("the O_DIRECT case", "needs 3.4")

@pytest.mark.claim("demo.absent")
@pytest.mark.parametrize("way", ["a", "b"])
def test_every_way_refused(way):
    with variant(f"way {way}"):
        libc.pipe2(0o7777777)

@pytest.mark.claim("demo.holds")
def test_child_failure_reaches_the_channel(spawn, channel):
    ch = channel()
    def child():
        assert 1 == 2, "the child saw the kernel disagree"
    spawn(child)
    try:
        ch.recv(timeout=5, what="child")
    except AssertionError as exc:
        assert "the child saw the kernel disagree" in str(exc)
'''


def test_verdict_rules(pytester, monkeypatch):
    """An OSError of the call under test is violated and names the call; a Python error is an
    error; a refused variant is "not run" (the claim holds, partial); every variant refused is
    violated; a child's assertion reaches a waiting channel."""
    result, record = run(pytester, monkeypatch, make_suite(pytester, RULES))
    claims = {c["id"]: c for c in record["claims"]}
    assert claims["demo.violated"]["verdict"] == "violated"
    assert claims["demo.violated"]["reason"].startswith(
        "msgrcv(msqid="), claims["demo.violated"]["reason"]
    assert "msgtyp=-2, flags=IPC_NOWAIT): kernel gave ENOMSG" in claims["demo.violated"]["reason"]
    assert "(test_demo.py:" in claims["demo.violated"]["reason"]
    assert claims["demo.error"]["verdict"] == "error"
    assert claims["demo.error"]["reason"].startswith("KeyError: 'no such key'")
    assert claims["demo.holds"]["verdict"] == "holds"
    partial = claims["demo.holds"]["partial"]
    assert {"case": "the O_DIRECT case", "why": "needs 3.4"} in partial
    assert any(p["case"].startswith("test_one_way_refused[") and p["why"].startswith(
        "not run: making it the refused way: kernel gave EINVAL") for p in partial), partial
    assert claims["demo.absent"]["verdict"] == "violated"
    assert claims["demo.absent"]["reason"].startswith("every case was refused: way a: pipe2(")


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


def test_observed_values_are_one_per_fact():
    from fixtures.record import compact_observed
    observed = {"mount[read]": "tmpfs mand", "mount[write]": "tmpfs mand", "got[read]": 8,
                "got[write]": "EAGAIN", "pid[read]": 1, "pid[write]": 1, "alone[x]": 3}
    out, specific = compact_observed(observed, ["pid[read]", "pid[write]"])
    assert out == {"mount": "tmpfs mand", "got[read]": 8, "got[write]": "EAGAIN", "pid": 1,
                   "alone[x]": 3}
    assert specific == ["pid"]


def test_a_module_that_does_not_import_makes_its_claims_errors(pytester, monkeypatch):
    suites = make_suite(pytester, '''
import pytest
import no_such_module_anywhere

@pytest.mark.claim("demo.holds")
def test_x():
    pass
''')
    for args in ((), ("-n", "2")):
        result, record = run(pytester, monkeypatch, suites, *args)
        claims = {c["id"]: c for c in record["claims"]}
        assert claims["demo.holds"]["verdict"] == "error", (args, record["claims"])
        assert "could not be collected" in claims["demo.holds"]["reason"]
        assert "no_such_module_anywhere" in claims["demo.holds"]["reason"]
