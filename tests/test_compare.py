"""Self-tests for reports.compare, on the hand-made records in tests/data/records/.

base-6.18.json   the baseline (6.18.44, Debian 12, CONFIG_MANDATORY_FILE_LOCKING not set)
other-5.10.json  every transition kind against the baseline, one unexplained regression
                 (pipe.atomic.small), one difference expected by version and kconfig
                 (lock.mandatory) and one by capability (sysvmsg.qbytes_raise: the baseline
                 lacks CAP_SYS_RESOURCE, which its skip reason names)
old-2.6.9.json   only differences the catalogue expects (pipe capacity 4096 before 2.6.11,
                 no O_DIRECT pipes before 3.4, no OFD locks before 3.15, mandatory locking
                 before 5.15) plus System V ids that differ
bad/             inputs that must be refused with one line and exit status 2
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reports import compare

DATA = Path(__file__).parent / "data" / "records"
REPO = Path(__file__).resolve().parent.parent
BASE, OTHER, OLD = DATA / "base-6.18.json", DATA / "other-5.10.json", DATA / "old-2.6.9.json"


@pytest.fixture(scope="module")
def base():
    return compare.load_record(str(BASE))


@pytest.fixture(scope="module")
def other():
    return compare.load_record(str(OTHER))


@pytest.fixture(scope="module")
def old():
    return compare.load_record(str(OLD))


def by_id(changes):
    return {c["id"]: c for c in changes}


# -- versions -----------------------------------------------------------------------------------

@pytest.mark.parametrize("a, b", [
    ("2.6.9", "2.6.11"),          # numeric, not lexical
    ("2.6.11", "3.4"),
    ("3.4", "3.15"),
    ("5.10.209", "5.15"),
    ("5.15", "6.18.44-fc"),
    ("6.6", "6.18.44-fc-v657"),
    ("6.18", "6.18.44"),          # missing parts count as 0
    ("v5.9", "5.10"),
])
def test_version_lt(a, b):
    assert compare.version_lt(a, b)
    assert not compare.version_lt(b, a)


def test_version_equal_and_suffix():
    assert compare.parse_version("6.18.44-fc-v657") == (6, 18, 44)
    assert not compare.version_lt("5.15", "5.15.0")
    assert not compare.version_lt("5.15.0", "5.15")
    assert compare.parse_version("unknown") is None


# -- transitions --------------------------------------------------------------------------------

@pytest.mark.parametrize("before, after, differ, kind", [
    ("holds", "violated", False, "regression"),
    ("violated", "holds", False, "fix"),
    ("error", "holds", False, "fix"),
    ("holds", "error", False, "error"),
    ("violated", "error", False, "error"),
    ("error", "violated", False, "verdict"),
    ("holds", "not_applicable", False, "not_applicable"),
    ("error", "not_applicable", False, "not_applicable"),
    ("not_applicable", "holds", False, "applicable"),
    ("not_applicable", "violated", False, "applicable"),
    ("holds", "holds", True, "value"),
    ("holds", "holds", False, None),
    (None, "holds", False, "new"),
    ("holds", None, False, "missing"),
])
def test_classify(before, after, differ, kind):
    assert compare.classify(before, after, differ) == kind


def test_every_transition_kind(base, other):
    changes = by_id(compare.compare_pair(base, other))
    expect = {
        "pipe.atomic.small": ("regression", "holds", "violated"),
        "pmq.notify.empty": ("fix", "violated", "holds"),
        "psem.eintr": ("error", "holds", "error"),
        "pthread.mutex_owner_dies": ("verdict", "error", "violated"),
        "sysv.tools": ("not_applicable", "holds", "not_applicable"),
        "sysvmsg.qbytes_raise": ("applicable", "not_applicable", "holds"),
        "sysv.id_not_reused": ("value", "holds", "holds"),
        "lock.mandatory": ("value", "holds", "holds"),
        "streams.absent": ("new", None, "holds"),
        "persistence.kernel": ("missing", "holds", None),
    }
    assert {cid: (c["kind"], c["before"], c["after"]) for cid, c in changes.items()} == expect
    # 'partial' and 'unselected' need partial claims or a selection: see the gate tests
    assert set(compare.KINDS) - {"partial", "unselected"} == {k for k, _, _ in expect.values()}
    # unchanged claims are not listed
    assert "fifo.rdwr" not in changes and "pipe.capacity.default" not in changes


def test_changes_carry_the_claim_sentence(base, other):
    for c in compare.compare_pair(base, other):
        assert c["claim"], c["id"]
        assert c["facility"] == c["id"].split(".")[0]
    reg = by_id(compare.compare_pair(base, other))["pipe.atomic.small"]
    assert reg["claim"].startswith("Writes of <= PIPE_BUF bytes are atomic")
    assert reg["reason_after"] == "3 of 4000 PIPE_BUF-sized records came back interleaved"
    assert reg["severity"] == "blocker"


def test_observed_value_changes(base, other, old):
    ids = by_id(compare.compare_pair(base, other))["sysv.id_not_reused"]
    assert ids["observed"] == [{"key": "ids[msg]", "before": "[0, 1]", "after": "[32768, 65537]"}]
    assert ids["expected"] == []  # nothing in the catalogue explains id values
    cap = by_id(compare.compare_pair(base, old))["pipe.capacity.default"]
    assert {"key": "capacity", "before": "65536", "after": "4096"} in cap["observed"]
    assert {"key": "F_GETPIPE_SZ", "before": "65536", "after": "EINVAL"} in cap["observed"]


def test_observed_diff_absent_and_types():
    diff, run_specific = compare.observed_diff({"a": 1, "b": [1, 2], "c": True},
                                               {"a": 1, "b": [1, 3], "d": None})
    assert run_specific == 0
    assert diff == [
        {"key": "b", "before": "[1, 2]", "after": "[1, 3]"},
        {"key": "c", "before": "true", "after": "(absent)"},
        {"key": "d", "before": "(absent)", "after": "-"},
    ]


def test_run_specific_values_are_not_kernel_differences(base):
    """Pids, ids and inodes differ between any two runs: a record that marks them run-specific
    keeps them out of the value changes, and a claim whose only differences are such values is
    no change at all; a stable value of the same claim still is."""
    def run(pid, ino, size):
        rec = copy.deepcopy(base)
        claim = next(c for c in rec["claims"] if c["verdict"] == "holds")
        claim["observed"] = {"l_pid": pid, "inode": ino, "size": size}
        claim["run_specific"] = ["inode", "l_pid"]
        return rec, claim["id"]

    (a, cid), (b, _) = run(100, 7, 4096), run(200, 9, 4096)
    assert cid not in by_id(compare.compare_pair(a, b))
    c, _ = run(300, 11, 65536)
    change = by_id(compare.compare_pair(a, c))[cid]
    assert change["kind"] == "value"
    assert change["observed"] == [{"key": "size", "before": "4096", "after": "65536"}]
    assert change["run_specific_differ"] == 2


def _with_caps(rec: dict, missing: list[str]) -> dict:
    rec = copy.deepcopy(rec)
    rec["host"]["capabilities"] = {"effective": "0", "missing": missing}
    return rec


def test_expected_by_capability(base):
    """A value change the catalogue ties to a capability is expected when one run held it and
    the other did not, and not otherwise."""
    priv = _with_caps(base, [])
    claim = next(c for c in priv["claims"] if c["verdict"] == "holds")
    claim["observed"] = {"above_max": 2097152}
    claim["changes"] = [{"capability": "CAP_SYS_RESOURCE", "note": "may exceed pipe-max-size"}]
    unpriv = _with_caps(priv, ["CAP_SYS_RESOURCE"])
    next(c for c in unpriv["claims"] if c["id"] == claim["id"])["observed"] = {"above_max": "EPERM"}
    change = by_id(compare.compare_pair(priv, unpriv))[claim["id"]]
    assert change["expected"] == ["capability CAP_SYS_RESOURCE: may exceed pipe-max-size"]
    same_caps = _with_caps(unpriv, [])
    assert by_id(compare.compare_pair(priv, same_caps))[claim["id"]]["expected"] == []


def test_skip_for_a_missing_capability_is_expected(base):
    """holds -> not_applicable whose skip reason names a capability the skipping run lacks."""
    root = _with_caps(base, [])
    claim = next(c for c in root["claims"] if c["verdict"] == "holds")
    nobody = _with_caps(root, ["CAP_SETUID", "CAP_SETGID"])
    skipped = next(c for c in nobody["claims"] if c["id"] == claim["id"])
    skipped["verdict"] = "not_applicable"
    skipped["reason"] = "needs a process of a second uid: the suite must hold CAP_SETUID and CAP_SETGID"
    change = by_id(compare.compare_pair(root, nobody))[claim["id"]]
    assert change["kind"] == "not_applicable"
    assert change["expected"] == ["capability CAP_SETUID: the run without it skips the claim",
                                  "capability CAP_SETGID: the run without it skips the claim"]
    back = by_id(compare.compare_pair(nobody, root))[claim["id"]]
    assert back["kind"] == "applicable" and len(back["expected"]) == 2
    # the same skip on a run that holds the capability is not explained by it
    assert by_id(compare.compare_pair(root, _with_caps(nobody, [])))[claim["id"]]["expected"] == []


# -- expected by version / kconfig --------------------------------------------------------------

def test_expected_by_version_and_kconfig(base, other):
    mand = by_id(compare.compare_pair(base, other))["lock.mandatory"]
    assert mand["expected"] == [
        "version 5.15: mandatory locking removed in 5.15; mand is ignored",
        "kconfig CONFIG_MANDATORY_FILE_LOCKING: without it, mand is ignored",
    ]
    assert {"key": "enforced", "before": "false", "after": "true"} in mand["observed"]


def test_old_kernel_differences_are_all_expected(base, old):
    changes = by_id(compare.compare_pair(base, old))
    assert changes["pipe.capacity.default"]["kind"] == "regression"
    assert changes["pipe.capacity.default"]["expected"][0].startswith("version 2.6.11:")
    assert changes["pipe2.direct"]["kind"] == "not_applicable"
    assert any(n.startswith("version 3.4:") for n in changes["pipe2.direct"]["expected"])
    assert changes["lock.ofd"]["kind"] == "not_applicable"
    assert any(n.startswith("version 3.15:") for n in changes["lock.ofd"]["expected"])
    assert changes["lock.mandatory"]["expected"]
    # the one unexplained difference is a value change, not a regression
    unexplained = [c for c in changes.values() if not c["expected"]]
    assert [(c["id"], c["kind"]) for c in unexplained] == [("sysv.id_not_reused", "value")]


def test_same_side_of_a_version_is_not_expected(base):
    """6.18 vs 6.1 both lie after 5.15 and 2.6.11: a capacity change there is unexplained."""
    newer = copy.deepcopy(base)
    newer["host"].update(kernel_release="6.1.0-27-amd64", kernel_version="6.1.115")
    for c in newer["claims"]:
        if c["id"] == "pipe.capacity.default":
            c.update(verdict="violated", observed={"capacity": 4096, "F_GETPIPE_SZ": 4096})
    change = by_id(compare.compare_pair(base, newer))["pipe.capacity.default"]
    assert change["kind"] == "regression" and change["expected"] == []
    cmp = compare.build_comparison([base, newer], ["a.json", "b.json"])
    assert cmp["exit_status"] == 1


def test_kconfig_unknown_on_one_side_explains_nothing(base, other):
    other2 = copy.deepcopy(other)
    del other2["host"]["kconfig"]["CONFIG_MANDATORY_FILE_LOCKING"]
    other2["host"].update(kernel_release="6.12.0", kernel_version="6.12.0")
    mand = by_id(compare.compare_pair(base, other2))["lock.mandatory"]
    assert mand["expected"] == []


def test_kernel_range_and_needed_kconfig_explain(base):
    newer = copy.deepcopy(base)
    for c in newer["claims"]:
        if c["id"] == "sysv.tools":
            c.update(verdict="not_applicable", observed={}, kconfig=["CONFIG_SYSVIPC"])
    newer["host"]["kconfig"]["CONFIG_SYSVIPC"] = None
    change = by_id(compare.compare_pair(base, newer))["sysv.tools"]
    assert change["expected"] == ["kconfig CONFIG_SYSVIPC: the facility needs it"]
    claim = {"kernel": {"since": "3.4"}, "changes": []}
    old = copy.deepcopy(base)
    old["host"]["kernel_version"] = "3.2.0"
    assert compare.expected_by(claim, base, old) == [
        "version 3.4: the claim as worded holds since 3.4"]


# -- the whole comparison -----------------------------------------------------------------------

def test_identity_shows_what_differs(base, other):
    rows = {r["label"]: r for r in compare.identity([base, other])}
    assert rows["kernel"]["values"] == ["6.18.44-fc-v657", "5.10.0-28-amd64"]
    assert rows["kernel"]["differs"] and not rows["arch"]["differs"]
    assert rows["distro"]["differs"] and rows["libc"]["values"] == ["glibc 2.36", "glibc 2.31"]
    assert rows["uid"]["values"] == ["0", "0"]
    assert "CAP_SYS_RESOURCE" in rows["capabilities"]["values"][0]
    assert rows["kconfig CONFIG_MANDATORY_FILE_LOCKING"]["values"] == ["not set", "y"]
    assert rows["sysctl kernel.msgmnb"]["values"] == ["16384", "65536"]
    assert rows["rlimit RLIMIT_NOFILE"]["values"] == ["[1024, 524288]", "[1024, 1048576]"]
    # options, sysctls and rlimits that are equal are left out
    assert "kconfig CONFIG_SYSVIPC" not in rows and "sysctl kernel.msgmax" not in rows


def test_counts(base, other):
    assert compare.verdict_counts(base) == {"holds": 13, "violated": 1, "not_applicable": 1,
                                            "error": 1, "partial": 0, "total": 16}
    assert compare.verdict_counts(other)["violated"] == 2


def test_build_comparison_exit_status(base, other, old):
    cmp = compare.build_comparison([base, other, old], ["b", "o", "x"])
    # holds -> violated, holds -> error and a claim missing from a full record all fail
    assert cmp["blocking"] == 3 and cmp["exit_status"] == 1
    assert [c["id"] for c in cmp["pairs"][0]["blocking"]] == [
        "pipe.atomic.small", "psem.eintr", "persistence.kernel"]
    assert cmp["pairs"][1]["blocking"] == []
    assert compare.build_comparison([base, old], ["b", "x"])["exit_status"] == 0
    assert compare.build_comparison([base, base], ["b", "b"])["pairs"][0]["changes"] == []
    # error -> violated is no new error; --fail-on-error adds violated -> error
    strict = compare.build_comparison([base, other], ["b", "o"], fail_on_error=True)
    assert {c["id"] for c in strict["pairs"][0]["blocking"]} == {
        "pipe.atomic.small", "psem.eintr", "persistence.kernel"}
    worse = copy.deepcopy(base)
    next(c for c in worse["claims"] if c["id"] == "pmq.notify.empty")["verdict"] = "error"
    assert compare.build_comparison([base, worse], ["b", "w"])["exit_status"] == 0
    assert compare.build_comparison([base, worse], ["b", "w"], fail_on_error=True)[
        "exit_status"] == 1


# -- the gate: holds -> error, missing claims, selections, partial claims -----------------------

def _with_verdict(rec: dict, cid: str, **fields) -> dict:
    rec = copy.deepcopy(rec)
    next(c for c in rec["claims"] if c["id"] == cid).update(fields)
    return rec


def test_holds_to_error_fails_unless_explained(base):
    refused = _with_verdict(base, "pipe2.direct", verdict="error",
                            reason="pipe2(O_DIRECT) failed with EINVAL")
    cmp = compare.build_comparison([base, refused], ["b", "r"])
    assert [c["id"] for c in cmp["pairs"][0]["blocking"]] == ["pipe2.direct"]
    assert cmp["exit_status"] == 1
    assert compare.headline(cmp).startswith("FAIL: 1 unexplained finding against the baseline "
                                             "(1 new error)")
    # the same error on a kernel before 3.4 (O_DIRECT pipes since 3.4) is explained by version
    old = copy.deepcopy(refused)
    old["host"]["kernel_version"] = "3.2.0"
    cmp = compare.build_comparison([base, old], ["b", "o"])
    change = by_id(cmp["pairs"][0]["changes"])["pipe2.direct"]
    assert change["kind"] == "error" and change["expected"]
    assert cmp["exit_status"] == 0


def test_missing_claim_fails_a_full_record(base):
    short = copy.deepcopy(base)
    short["claims"] = [c for c in short["claims"] if c["id"] != "fifo.rdwr"]
    cmp = compare.build_comparison([base, short], ["b", "s"])
    assert [(c["id"], c["kind"]) for c in cmp["pairs"][0]["blocking"]] == [("fifo.rdwr", "missing")]
    assert "1 missing claim" in compare.headline(cmp)
    assert cmp["exit_status"] == 1 and cmp["selections"] == []


@pytest.mark.parametrize("run", [
    {"selection": True, "args": ["-k", "pipe"]},
    {"selection": "-k pipe", "args": ["-k", "pipe"]},  # the suite writes what narrowed it
    {"args": ["-n", "auto", "-k", "pipe"]},          # a record from before run.selection
    {"args": ["suites/pipe"]},
    {"args": ["--collect-only"]},
])
def test_selection_is_never_compared_as_if_full(base, run):
    sel = copy.deepcopy(base)
    sel["run"] = dict(sel["run"], **run)
    if "selection" not in run:
        sel["run"].pop("selection", None)
    sel["claims"] = [c for c in sel["claims"] if c["facility"] in ("pipe", "pipe2")]
    assert compare.selection_of(sel).startswith("a selection (")
    cmp = compare.build_comparison([base, sel], ["full.json", "sel.json"])
    kinds = {c["kind"] for c in cmp["pairs"][0]["changes"]}
    assert kinds == {"unselected"} and cmp["exit_status"] == 0
    assert cmp["pairs"][0]["unexplained"] == []  # not run is no finding
    assert compare.tally_text(cmp["pairs"][0]).endswith("; 12 claims not in the selection")
    assert compare.headline(cmp).endswith("[partial comparison: a record is a selection]")
    assert cmp["selections"] == [f"sel.json is {compare.selection_of(sel)}: 4 of 16 baseline "
                                 "claims compared, the other 12 were not run (not a full "
                                 "comparison)"]
    text = compare.render_text(cmp, width=200)
    assert "NOT A FULL COMPARISON: sel.json is a selection" in text.splitlines()[2]
    assert "Not a full comparison" in compare.render_markdown(cmp)
    assert "Not a full comparison" in compare.render_html(cmp)
    # a regression inside the selection still fails
    bad = _with_verdict(sel, "pipe.atomic.small", verdict="violated", reason="interleaved")
    assert compare.build_comparison([base, bad], ["f", "s"])["exit_status"] == 1


def test_full_records_are_not_selections(base):
    assert compare.selection_of(base) is None
    explicit = copy.deepcopy(base)
    explicit["run"]["selection"] = None
    explicit["run"]["args"] = ["-k", "pipe"]  # the record's own word wins
    assert compare.selection_of(explicit) is None
    explicit["run"]["selection"] = "-m sysv"
    assert compare.selection_of(explicit) == "a selection (-m sysv)"


def test_partial_claims(base):
    why = "needs a second uid: the suite must hold CAP_SETUID"
    part = _with_verdict(_with_caps(base, ["CAP_SETUID"]), "fifo.rdwr",
                         partial=[{"case": "as nobody", "why": why}])
    assert compare.verdict_text(next(c for c in part["claims"] if c["id"] == "fifo.rdwr")) == \
        "holds (partial)"
    assert compare.verdict_counts(part)["partial"] == 1
    change = by_id(compare.compare_pair(_with_caps(base, ["CAP_SETUID"]), part))["fifo.rdwr"]
    assert change["kind"] == "partial" and change["expected"] == []  # both lack it
    cmp = compare.build_comparison([_with_caps(base, []), part], ["root", "nobody"])
    change = by_id(cmp["pairs"][0]["changes"])["fifo.rdwr"]
    assert change["expected"] == ["capability CAP_SETUID: the run without it skips the claim"]
    assert compare.verdict_arrow(change) == "holds \u2192 holds (partial)"
    text = compare.render_text(cmp, width=200)
    assert "holds (partial)" in text and f"not run on this run: as nobody ({why})" in text
    assert cmp["exit_status"] == 0
    # a record without the field reads as fully checked
    assert compare.partial_cases({"verdict": "holds"}) == []


def test_abi_and_proof_differences_are_labelled(base):
    a = copy.deepcopy(base)
    a["host"].update(abi="x86_64", personality="0x0", pip="24.0")
    b = _with_verdict(a, "sysv.tools", observed={"blocking_proof": "wchan"})
    a = _with_verdict(a, "sysv.tools", observed={"blocking_proof": "syscall"})
    change = by_id(compare.compare_pair(a, b))["sysv.tools"]
    assert change["expected"] == [
        "observation syscall \u2192 wchan: blocking proved by another rung of the ladder"]
    b32 = copy.deepcopy(b)
    b32["host"]["abi"] = "i386"
    b32 = _with_verdict(b32, "sysv.tools", observed={"blocking_proof": "syscall", "size": 4})
    # another ABI explains a value only where the run's test said so in its reason
    assert by_id(compare.compare_pair(a, b32))["sysv.tools"]["expected"] == []
    for c in b32["claims"]:
        if c["id"] == "sysv.tools":
            c["reason"] = "expected by ABI: a 32-bit caller sees 4"
    change = by_id(compare.compare_pair(a, b32))["sysv.tools"]
    assert change["expected"] == [
        "ABI x86_64 \u2192 i386: values seen by a process of another ABI"]
    rows = {r["label"]: r for r in compare.identity([a, b32])}
    assert rows["ABI"]["values"] == ["x86_64", "i386"] and rows["ABI"]["differs"]
    assert rows["pip"]["values"] == ["24.0", "24.0"]
    assert "ABI" not in {r["label"] for r in compare.identity([base, base])}


# -- renderers ----------------------------------------------------------------------------------

def test_text_first_screen(base, other, old):
    text = compare.render_text(compare.build_comparison(
        [base, other, old], [str(BASE), str(OTHER), str(OLD)]), width=100)
    first = text.splitlines()[:24]
    screen = "\n".join(first)
    # what changed, and whether it was expected, before anything else
    assert first[1].startswith("FAIL: 3 unexplained findings against the baseline (1 regression, "
                               "1 new error, 1 missing claim)")
    assert "REGRESSION     pipe.atomic.small" in screen
    assert "expected by version 2.6.11" in screen
    assert "expected by version 5.15, kconfig CONFIG_MANDATORY_FILE_LOCKING" in screen
    assert "FAILS THE GATE" in screen
    # then identity and counts, then the details with sentences
    assert "5.10.0-28-amd64" in text and "glibc 2.31" in text
    assert "Writes of <= PIPE_BUF bytes are atomic" in text
    assert "observed capacity: 65536 \u2192 4096" in text
    assert "source says: \u201cthere is no way to release a mutex" in text
    assert all(len(line) <= 100 for line in text.splitlines() if not line.startswith("  "))


def test_markdown(base, other):
    md = compare.render_markdown(compare.build_comparison([base, other], ["base.json", "o.json"]))
    assert md.startswith("## ipc-conformance: kernel comparison")
    assert "\u274c **FAIL: 3 unexplained findings" in md
    assert "#### Regressions (holds \u2192 violated): 1" in md
    assert "| `pipe.atomic.small`<br>Writes of &lt;= PIPE\\_BUF" in md
    assert "<details><summary>Expected by version/config/capability: 2</summary>" in md
    # every table row has the same number of cells as its header
    for line in md.splitlines():
        if line.startswith("| `"):
            assert line.replace("\\|", "").count("|") == 6, line


def test_html_is_self_contained(base, other):
    page = compare.render_html(compare.build_comparison([base, other], ["base.json", "o.json"]))
    assert page.startswith("<!DOCTYPE html>")
    assert 'id="status"' in page and "FAIL: 3 unexplained findings" in page
    assert 'data-claim="pipe.atomic.small"' in page
    assert "expected by version 5.15" in page
    lowered = page.lower()
    for ref in ("<script", "<link", "src=", "@import", "url("):
        assert ref not in lowered
    assert "&lt;= PIPE_BUF" in page  # escaped


def test_html_has_the_claims_matrix(base, other, old):
    cmp = compare.build_comparison([base, other, old], ["base.json", "o.json", "x.json"])
    page = compare.render_html(cmp, [base, other, old])
    table = page[page.index('id="ipcc-differences"'):]
    assert 'class="cell v-violated differs" data-claim="pipe.atomic.small"' in table
    assert 'class="cell v-violated expected" data-claim="pipe.capacity.default"' in table
    assert 'data-claim-row="doors.absent"' not in table
    for ref in ("<script", "<link", "src=", "@import", "url("):
        assert ref not in page.lower()
    assert 'id="ipcc-differences"' not in compare.render_html(cmp)  # without the records


def test_html_escapes_record_text(base):
    evil = copy.deepcopy(base)
    evil["claims"][0].update(verdict="violated", reason="<script>alert(1)</script>")
    page = compare.render_html(compare.build_comparison([base, evil], ["a", "b"]))
    assert "<script>" not in page and "&lt;script&gt;" in page


# -- command line -------------------------------------------------------------------------------

def run_cli(*args, cwd=REPO):
    env = dict(os.environ, PYTHONPATH=str(REPO), COLUMNS="100")
    return subprocess.run([sys.executable, "-m", "reports.compare", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=60)


def test_cli_exit_1_on_unexplained_regression():
    proc = run_cli(BASE, OTHER)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines()[1].startswith("FAIL")
    assert proc.stderr == ""


def test_cli_exit_0_when_everything_is_expected():
    proc = run_cli(BASE, OLD)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1].startswith("OK: no unexplained regression")


def test_cli_formats_and_output_file(tmp_path):
    for fmt, check in (("markdown", "## ipc-conformance"), ("html", "<!DOCTYPE html>"),
                       ("json", '"exit_status": 1')):
        proc = run_cli(BASE, OTHER, "--format", fmt)
        assert proc.returncode == 1 and check in proc.stdout
    out = tmp_path / "cmp.html"
    proc = run_cli(BASE, OTHER, OLD, "-o", out)
    assert proc.returncode == 1 and proc.stdout == ""
    assert out.read_text().startswith("<!DOCTYPE html>")  # format from the suffix
    assert "written to" in proc.stderr
    json.loads(run_cli(BASE, OLD, "-f", "json").stdout)


def test_main_in_process(capsys):
    assert compare.main([str(BASE), str(OLD), "--format", "markdown"]) == 0
    assert "\u2705" in capsys.readouterr().out


BAD = [
    ("missing.json", "no such file"),
    ("bad/truncated.json", "truncated JSON"),
    ("bad/schema2.json", "record schema 2, but this tool reads schema 1"),
    ("bad/not-a-record.json", "not a run record (no \"schema\" key"),
    ("bad/empty.json", "empty file"),
    ("bad/not-json.txt", "not a run record: not valid JSON"),
    ("bad/bad-verdict.json", "has verdict 'passed'"),
    ("bad", "is a directory"),
]


@pytest.mark.parametrize("name, message", BAD, ids=[b[0] for b in BAD])
def test_bad_input_one_line_exit_2(name, message):
    path = DATA / name
    proc = run_cli(BASE, path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert lines[0].startswith(f"compare: {path}: ")
    assert message in lines[0]


@pytest.mark.parametrize("name, message", BAD, ids=[b[0] for b in BAD])
def test_load_record_errors(name, message):
    with pytest.raises(compare.RecordError, match="^" + str(DATA / name).replace(".", r"\.")):
        compare.load_record(str(DATA / name))


def test_bad_input_first_position_and_several(tmp_path):
    proc = run_cli(DATA / "bad" / "schema2.json", BASE, DATA / "bad" / "empty.json")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 2  # one line per bad file


def test_truncated_anywhere(tmp_path):
    text = BASE.read_text()
    for cut in (1, len(text) // 3, len(text) - 3):
        p = tmp_path / f"cut{cut}.json"
        p.write_text(text[:cut])
        with pytest.raises(compare.RecordError, match="truncated JSON"):
            compare.load_record(str(p))


def test_usage_errors_exit_2():
    assert run_cli(BASE).returncode == 2
    assert run_cli(BASE, OTHER, "--format", "pdf").returncode == 2
    assert run_cli("--help").returncode == 0


def test_not_utf8(tmp_path):
    p = tmp_path / "bin.json"
    p.write_bytes(b"\xff\xfe\x00garbage")
    proc = run_cli(BASE, p)
    assert proc.returncode == 2 and "not UTF-8" in proc.stderr


def test_short_names_tell_record_json_files_apart(base, other):
    assert compare.short_names(["a/b.json", "c/d.json"]) == ["b.json", "d.json"]
    assert compare.short_names(["records/record-kernels/host/record.json",
                                "records/record-debian12/record.json"]) == \
        ["host/record.json", "record-debian12/record.json"]
    assert compare.short_names(["x.json", "x.json"]) == ["1:x.json", "2:x.json"]
    md = compare.render_markdown(compare.build_comparison(
        [base, other], ["out/host/record.json", "out/5.10/record.json"]))
    assert "`5.10/record.json` (5.10.0-28-amd64 x86\\_64) vs baseline `host/record.json`" in md


def test_unknown_kconfig_and_a_present_facility_explain_nothing(base):
    """A sandbox whose kernel config is unreadable (kconfig_source null, every value null) is
    not a kernel without the options; and where the claim ran on both sides the facility was
    there, so "the facility needs CONFIG_X" cannot explain a violation."""
    cid = next(c["id"] for c in base["claims"] if c["verdict"] == "holds")
    base = _with_verdict(base, cid, kconfig=["CONFIG_SYSVIPC"])
    base["host"]["kconfig"]["CONFIG_SYSVIPC"] = "y"
    sandbox = _with_verdict(base, cid, verdict="violated", reason="msgrcv wrote past the buffer")
    sandbox["host"]["kconfig_source"] = None
    sandbox["host"]["kconfig"] = {k: None for k in sandbox["host"]["kconfig"]}
    change = by_id(compare.compare_pair(base, sandbox))[cid]
    assert change["kind"] == "regression" and change["expected"] == [], change["expected"]
    known_off = copy.deepcopy(sandbox)
    known_off["host"]["kconfig_source"] = "/proc/config.gz"
    change = by_id(compare.compare_pair(base, known_off))[cid]
    assert not [n for n in change["expected"] if n.endswith("the facility needs it")]


def test_page_size_differences_and_compacted_keys(base):
    """16 KiB pages against 4 KiB: a value that is the same number of pages (plus the same
    remainder) is expected by page size, anything else stays a finding; a fact one run wrote
    once ('name') and the other per case ('name[case]') is compared case by case."""
    cid = next(c["id"] for c in base["claims"] if c["verdict"] == "holds")
    four = _with_verdict(base, cid, observed={"capacity": 65536, "write": 4196, "n[a]": 1, "n[b]": 2})
    four["host"]["page_size"] = 4096
    sixteen = _with_verdict(four, cid, observed={"capacity": 262144, "write": 16484, "n[a]": 1,
                                                 "n[b]": 2})
    sixteen["host"]["page_size"] = 16384
    change = by_id(compare.compare_pair(four, sixteen))[cid]
    assert change["expected"] == ["page size 4096 \u2192 16384: the same number of pages"]
    other = _with_verdict(sixteen, cid, observed={"capacity": 262144, "write": 100, "n[a]": 1,
                                                  "n[b]": 2})
    assert by_id(compare.compare_pair(four, other))[cid]["expected"] == []
    once = _with_verdict(four, cid, observed={"capacity": 65536, "write": 4196, "n": 7})
    per_case = _with_verdict(four, cid, observed={"capacity": 65536, "write": 4196, "n[a]": 7,
                                                  "n[b]": 7})
    assert cid not in by_id(compare.compare_pair(once, per_case))
