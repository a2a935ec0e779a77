"""Self-tests of the shared ctypes mechanics in fixtures/ (sysv, locks, pipes, signals):
the structures and wrappers move the bytes the kernel reads and writes."""
from __future__ import annotations

import ctypes
import os
import signal

from fixtures import libc, locks, pipes, signals, sysv


def test_ipc_stat_round_trip(ipc):
    q = ipc.msgq(mode=0o640)
    ds = sysv.stat("msg", q)
    assert ds.perm.uid == os.geteuid() and ds.perm.mode & 0o777 == 0o640
    assert (ds.qnum, ds.cbytes) == (0, 0)
    libc.msgsnd(q, 5, b"12345")
    ds = sysv.stat("msg", q)
    assert (ds.qnum, ds.cbytes, ds.lspid) == (1, 5, os.getpid())
    ds.perm.mode = 0o600
    sysv.ipc_set("msg", q, ds)
    assert sysv.stat("msg", q).perm.mode & 0o777 == 0o600
    assert libc.msgrcv(q, 64) == (5, b"12345")


def test_struct_sizes_hold_the_kernel_layout():
    """ipc_perm and msg_qbytes where this ABI's glibc has them (every ABI: test_abi_layouts.py)."""
    lp64 = ctypes.sizeof(ctypes.c_long) == 8
    assert ctypes.sizeof(sysv.IpcPerm) == (48 if lp64 else 36)
    assert sysv.MsqidDs.qbytes.offset == (48 + 5 * 8 if lp64 else 36 + 6 * 4 + 2 * 4)


def test_semctl_set_get(ipc):
    s = ipc.sem(2)
    sysv.semset_value(s, 7, num=1)
    assert (sysv.semget_value(s), sysv.semget_value(s, 1)) == (0, 7)
    sysv.semop_add(s, 3)
    assert sysv.semctl_get(s, sysv.GETVAL) == 3
    assert sysv.semctl_get(s, sysv.GETPID) == os.getpid()
    assert sysv.stat("sem", s).nsems == 2


def test_shm_write_read(ipc):
    m = ipc.shm(4096)
    sysv.shm_write(m, b"shared bytes")
    assert sysv.shm_read(m, 12) == b"shared bytes"
    ds = sysv.stat("shm", m)
    assert (ds.segsz, ds.nattch, ds.cpid) == (4096, 0, os.getpid())


def test_ipc_info_reports_limits():
    assert sysv.ipc_info("msg").msgmax > 0
    assert sysv.ipc_info("sem").semmsl > 0
    assert sysv.ipc_info("shm").shmmni > 0


def test_flock_struct_getlk_on_unlocked_file(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"." * 64)
    fd = os.open(path, os.O_RDWR)
    try:
        fl = locks.getlk(fd, locks.F_WRLCK, 8, 16)
        assert fl.l_type == locks.F_UNLCK
        assert fl.describe()["l_type"] == "F_UNLCK"
        locks.setlk(fd, locks.F_WRLCK, 0, 0)
        # Our own lock never conflicts with us: F_GETLK still says F_UNLCK.
        assert locks.getlk(fd).l_type == locks.F_UNLCK
        locks.setlk(fd, locks.F_UNLCK)
        locks.flock(fd, locks.LOCK_EX | locks.LOCK_NB)
        locks.flock(fd, locks.LOCK_UN)
    finally:
        os.close(fd)


def test_pipe_fill_drain_counts():
    r, w = pipes.pipe()
    try:
        size = pipes.capacity(w)
        os.set_blocking(r, False)
        os.set_blocking(w, False)
        held = pipes.fill(w)
        assert held == size and pipes.queued(r) == size
        assert pipes.fill(w, 4096, to_the_byte=True) == 0
        assert len(pipes.drain(r)) == size and pipes.queued(r) == 0
        assert pipes.drain(r) == b""
    finally:
        pipes.close_all(r, w, -1)
    pipes.close_all(r)  # already closed: nothing happens


def test_read_chunks_ends_with_eof():
    r, w = pipes.pipe()
    try:
        libc.write(w, b"abc")
        os.close(w)
        w = -1
        assert pipes.read_chunks(r, 1.0) == [b"abc", b""]
    finally:
        pipes.close_all(r, w)


def test_sigaction_set_get_flags():
    sig = signal.SIGUSR2
    before = signal.getsignal(sig)
    callback = signals.SIGINFO_HANDLER(lambda *args: None)
    try:
        signals.sigaction_set(sig, signals.SIG_IGN)
        assert signals.sigaction_get(sig) == signals.SIG_IGN
        assert signals.sa_flags(sig) & (signals.SA_SIGINFO | signals.SA_RESTART) == 0
        if signals.SA_LAYOUT_KNOWN:
            signals.sigaction_siginfo(sig, callback)
            assert signals.sa_flags(sig) & signals.SA_SIGINFO
            assert signals.sigaction_get(sig) == ctypes.cast(callback, ctypes.c_void_p).value
    finally:
        signal.signal(sig, before)
    if before == signal.SIG_DFL:
        assert signals.sigaction_get(sig) == signals.SIG_DFL
