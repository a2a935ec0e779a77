"""Self-tests of fixtures/procs.py: results come back, blocking is proved, children never escape."""
import errno
import os
import signal

import pytest

from fixtures.verdict import Undecided

from fixtures import procs
from fixtures.procs import (Child, ChildTimeout, NeverBlocked, poll_until, proc_state,
                            syscall_numbers, wait_blocked)


def _gone(pid: int) -> bool:
    return proc_state(pid) in (None, "Z", "X")


def test_value_comes_back(spawn):
    assert spawn.run(lambda: {"pid": os.getpid() > 0}).unwrap() == {"pid": True}


def test_exception_and_errno_come_back(spawn):
    result = spawn.run(os.close, 9999)
    assert result.exitcode == 1 and isinstance(result.error, OSError)
    assert result.errno == errno.EBADF


def test_assertion_in_child_is_reraised(spawn):
    def fails():
        assert False, "kernel said no"

    with pytest.raises(AssertionError, match="kernel said no"):
        spawn(fails).value()


def test_death_by_signal_is_reported(spawn):
    result = spawn.run(os.kill, 0, signal.SIGPIPE)
    assert result.signal == signal.SIGPIPE and result.exitcode is None
    with pytest.raises(AssertionError, match="SIGPIPE"):
        result.unwrap()


def test_child_has_default_signal_dispositions(spawn):
    assert spawn.run(signal.getsignal, signal.SIGPIPE).unwrap() == signal.SIG_DFL


def test_child_runs_in_its_own_process_group(spawn):
    child = spawn(os.getpgid, 0)
    assert child.value() == child.pid != os.getpgid(0)


def test_wait_blocked_sees_read(spawn):
    r, w = os.pipe()
    child = spawn(os.read, r, 1, name="reader")
    child.wait_blocked("read")
    os.write(w, b"x")
    assert child.value() == b"x"


def test_wait_blocked_fails_with_a_clear_message(spawn):
    r, w = os.pipe()
    child = spawn(os.read, r, 1, name="reader")
    with pytest.raises(NeverBlocked, match=r"reader never blocked in write\(\) within 0.2s"):
        child.wait_blocked("write", timeout=0.2)


def test_wait_blocked_on_a_child_that_exits(spawn):
    child = spawn(lambda: None, name="quick")
    child.result()
    with pytest.raises(NeverBlocked, match="exited first"):
        wait_blocked(child.pid, "read", "quick", timeout=0.5)


def test_result_is_bounded(spawn):
    r, _w = os.pipe()
    child = spawn(os.read, r, 1, name="reader")
    with pytest.raises(ChildTimeout, match="reader did not finish"):
        child.result(timeout=0.2)


def test_syscall_table_knows_this_abi():
    """Every ABI the suite runs on is tabled; an untabled one still has wchan and "sleeping"."""
    from fixtures import abi
    if abi.process_abi() not in procs.syscalls.TABLE_OF_ABI:
        pytest.skip(f"no syscall table for {abi.process_abi()}: wchan and state S prove blocking")
    assert syscall_numbers("write") and syscall_numbers("open")


def test_teardown_kills_the_whole_group(spawn, channel):
    """A grandchild in the child's group dies with it when the fixture cleans up."""
    ch = channel()

    def parent_of_grandchild():
        pid = os.fork()
        if pid == 0:
            try:
                os.read(os.pipe()[0], 1)
            finally:
                os._exit(0)
        ch.send(pid)
        os.read(os.pipe()[0], 1)

    spawn(parent_of_grandchild)
    grandchild = ch.recv()
    wait_blocked(grandchild, "read", "grandchild")
    spawn.cleanup()
    deadline_ok = _wait_gone(grandchild)
    assert deadline_ok, f"grandchild {grandchild} outlived the fixture's cleanup"


def test_parent_death_signal_kills_an_orphaned_child(spawn, channel):
    """A child whose parent dies without cleanup is killed by its parent-death signal."""
    ch = channel()

    def middle():
        inner = Child(os.read, os.pipe()[0], 1, name="inner")
        ch.send(inner.pid)
        os._exit(0)  # dies without killing inner

    spawn(middle).result()
    inner = ch.recv()
    assert _wait_gone(inner), f"child {inner} survived its parent's death"


def _wait_gone(pid: int, timeout: float = 5.0) -> bool:
    return poll_until(lambda: _gone(pid), timeout)


# -- the observation ladder: each rung, with the files above it simulated away ---------------

def _reader(spawn):
    r, w = os.pipe()
    return spawn(os.read, r, 1, name="reader"), w


def test_ladder_syscall_rung(spawn):
    child, w = _reader(spawn)
    assert child.wait_blocked("read") == "syscall"
    os.write(w, b"x")


def test_ladder_wchan_rung_without_proc_syscall(spawn, monkeypatch):
    monkeypatch.setattr(procs, "_proc_syscall", lambda pid: None)
    child, w = _reader(spawn)
    if not poll_until(lambda: procs._proc_wchan(child.pid), 2):
        pytest.skip("this kernel hides /proc/PID/wchan")
    assert child.wait_blocked("read") == "wchan"
    os.write(w, b"x")


def test_ladder_sleeping_rung_without_syscall_or_wchan(spawn, monkeypatch):
    monkeypatch.setattr(procs, "_proc_syscall", lambda pid: None)
    monkeypatch.setattr(procs, "_proc_wchan", lambda pid: None)
    child, w = _reader(spawn)
    assert child.wait_blocked("read") == "sleeping"
    os.write(w, b"x")
    assert child.value() == b"x"


def test_ladder_unreadable_files_are_undecided_not_violated(spawn, monkeypatch):
    """A process that never stays asleep, with nothing to read in /proc: the suite's error."""
    monkeypatch.setattr(procs, "_proc_syscall", lambda pid: None)
    monkeypatch.setattr(procs, "_proc_wchan", lambda pid: None)
    monkeypatch.setattr(procs, "proc_state", lambda pid: "R")
    child, w = _reader(spawn)
    with pytest.raises(Undecided, match="could not tell whether reader blocks in read"):
        child.wait_blocked("read", timeout=0.2)
    os.write(w, b"x")


def test_ladder_uses_the_observed_process_abi(spawn, monkeypatch):
    """A 32-bit process reports i386 numbers: read is 3 there, not 0."""
    monkeypatch.setattr(procs.abi, "pid_abi", lambda pid: "i386")
    monkeypatch.setattr(procs, "_proc_syscall", lambda pid: "3")
    monkeypatch.setattr(procs, "_proc_wchan", lambda pid: None)
    child, w = _reader(spawn)
    assert child.wait_blocked("read") == "syscall"
    assert procs.syscall_numbers("semop", child.pid) == {420, 117}  # semtimedop_time64, ipc()
    os.write(w, b"x")


def test_call_that_returned_first_is_never_blocked(spawn, monkeypatch):
    monkeypatch.setattr(procs, "_proc_syscall", lambda pid: None)
    monkeypatch.setattr(procs, "_proc_wchan", lambda pid: None)
    r, w = os.pipe()
    os.write(w, b"x")
    child = spawn(os.read, r, 1, name="reader")
    with pytest.raises(NeverBlocked, match="returned first|exited first"):
        child.wait_blocked("read", timeout=2)


def test_result_bound_on_a_running_child_is_undecided(spawn):
    def spin():
        while True:
            pass
    child = spawn(spin, name="spinner")
    with pytest.raises(Undecided, match="spinner still running after 0.2s.*too slow to decide"):
        child.result(timeout=0.2)


def test_child_failure_before_replying_is_its_own_exception(spawn, channel):
    ch = channel()

    def child():
        raise OSError(errno.EPERM, "mkfifo")

    spawn(child, name="maker")
    with pytest.raises(PermissionError):
        ch.recv(timeout=5, what="maker")


def test_proofs_are_taken_weakest_first():
    procs._proofs[:] = ["syscall", "sleeping", "wchan"]
    assert procs.take_proofs() == "sleeping" and procs.take_proofs() is None


def test_a_skip_in_a_child_skips_the_test(spawn):
    """pytest.skip in a child (a case not run) reaches the parent as a skip, not as an error."""
    def child():
        pytest.skip("not run: this kernel refused the way of making it")
    with pytest.raises(pytest.skip.Exception, match="not run: this kernel refused"):
        spawn(child).value()
