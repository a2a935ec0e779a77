"""Self-tests of fixtures/procs.py: results come back, blocking is proved, children never escape."""
import errno
import os
import signal

import pytest

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


def test_syscall_table_knows_this_arch():
    if os.uname().machine not in ("x86_64", "aarch64", "riscv64", "loongarch64"):
        pytest.skip(f"no syscall table for {os.uname().machine}: only state S is checked there")
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
