"""signal.orphan: an orphan is re-parented to the nearest child subreaper, or else to init."""
import ctypes
import os

import pytest

import sig_helpers as sh
from fixtures import libc as lc
from fixtures.procs import poll_until

PR_SET_CHILD_SUBREAPER = 36


def _orphan(report, release):
    """Fork a grandchild, die, and let the grandchild report who adopted it."""
    born_r, born_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the grandchild: same process group, so the spawn teardown kills it too
        code = 1
        try:
            first = os.getppid()
            report.send(("born", os.getpid(), first))  # before anyone can report our parent gone
            os.write(born_w, b"!")  # our parent may exit only after we have seen it
            release.recv(what="the test (parent gone)")
            adopted = poll_until(lambda: os.getppid() != first, 5)
            report.send(("adopted", os.getppid() if adopted else None))
            code = 0
        finally:
            os._exit(code)
    os.close(born_w)
    os.read(born_r, 1)
    return pid  # the middle process exits: its child is now an orphan


PR_GET_CHILD_SUBREAPER = 37


def _subreaper_then_orphan_and_reap(report, release):
    lc.check(lc._prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl(PR_SET_CHILD_SUBREAPER, 1)")
    middle = os.fork()
    if middle == 0:
        try:
            _orphan(report, release)
        finally:
            os._exit(0)
    sh.waitpid(middle)
    report.send(("middle gone", middle))
    # Only an adopted orphan can be waited for now: the kernel hands its exit to us.
    reaped, status = sh.waitpid(-1)
    return {"subreaper": os.getpid(), "reaped": reaped, "status": os.waitstatus_to_exitcode(status)}


def _is_subreaper() -> bool:
    flag = ctypes.c_int(0)
    lc.check(lc._prctl(PR_GET_CHILD_SUBREAPER, ctypes.addressof(flag), 0, 0, 0),
             "prctl(PR_GET_CHILD_SUBREAPER)")
    return bool(flag.value)


def _ancestors(pid):
    chain = []
    while pid > 1:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        pid = int(stat[stat.rindex(")") + 2:].split()[1])
        chain.append(pid)
    return chain


@pytest.mark.claim("signal.orphan")
def test_reparented_to_our_subreaper_which_reaps(spawn, channel, observe):
    """An orphan whose grandparent is a child subreaper is re-parented to it, and its exit is
    collected by the subreaper's waitpid(-1)."""
    report, release = channel(), channel()
    subreaper = spawn(_subreaper_then_orphan_and_reap, report, release, name="child subreaper")
    _, grandchild, first_parent = report.recv(what="the grandchild")
    _, middle = report.recv(what="the subreaper (middle process reaped)")
    release.send("go")
    _, adopter = report.recv(what="the grandchild")
    got = subreaper.value(timeout=5)
    observe("adopted_by_subreaper", adopter == subreaper.pid)
    assert first_parent == middle and adopter == subreaper.pid, (
        f"expected the orphan of {middle} to be re-parented to the subreaper {subreaper.pid}, "
        f"its parent became {adopter}")
    assert (got["reaped"], got["status"]) == (grandchild, 0), (
        f"expected the subreaper's waitpid(-1) to collect the orphan {grandchild} (status 0), "
        f"it got {got}")


@pytest.mark.claim("signal.orphan")
def test_reparented_without_own_subreaper(spawn, channel, observe):
    """Without a subreaper of ours, the orphan goes to init (pid 1) or to a subreaper above this
    process; this process, not a subreaper, never adopts it."""
    if _is_subreaper():
        pytest.skip("this test process is itself a child subreaper: the other case covers it")
    report, release = channel(), channel()
    middle = spawn(_orphan, report, release, name="parent that exits")
    _, grandchild, first_parent = report.recv(what="the grandchild")
    middle.value(timeout=5)
    release.send("go")
    _, adopter = report.recv(what="the grandchild")
    candidates = {1} | set(_ancestors(os.getpid()))
    observe("adopted_by_init", adopter == 1)
    observe("adopter_is_ancestor", adopter in candidates and adopter != 1)
    assert first_parent == middle.pid, f"the grandchild's first parent should be {middle.pid}, it was {first_parent}"
    assert adopter in candidates and adopter != os.getpid(), (
        f"expected the orphan to go to init or a subreaper above this process {sorted(candidates)}, "
        f"its parent became {adopter}")
