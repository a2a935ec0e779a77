"""Self-tests of fixtures/libc.py: the ctypes wrappers move the bytes the kernel sees."""
import errno

import pytest

from fixtures import libc


def test_msgsnd_msgrcv_round_trip(ipc):
    q = ipc.msgq()
    libc.msgsnd(q, 7, b"hello world")
    assert libc.msgrcv(q, 64, 0) == (7, b"hello world")


def test_msgrcv_count_is_the_text_length(ipc):
    q = ipc.msgq()
    libc.msgsnd(q, 1, b"abc")
    assert libc.msgrcv_count(q, 64, 0) == 3


def test_errno_comes_through(ipc):
    q = ipc.msgq()
    with pytest.raises(OSError) as exc:
        libc.msgrcv(q, 8, 0, libc.IPC_NOWAIT)
    assert exc.value.errno == errno.ENOMSG


def test_write_read(tmp_path):
    r, w = libc.pipe2(0)
    assert libc.write(w, b"xyz") == 3
    assert libc.read(r, 8) == b"xyz"
