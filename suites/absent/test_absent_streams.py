"""streams.absent: STREAMS is not provided on Linux: libc's STREAMS calls are absent or ENOSYS
stubs, the STREAMS ioctls are unknown (ENOTTY), the reserved getpmsg/putpmsg syscalls give
ENOSYS. The claim holds when STREAMS is absent."""
import ctypes
import errno
import fcntl
import os
import socket

import pytest

import absent_helpers as absent
from fixtures import abi, libc
from fixtures.expect import fails_with

STREAMS_CALLS = ["isastream", "fattach", "fdetach", "getmsg", "putmsg", "getpmsg", "putpmsg"]
# <stropts.h>: __SID = 'S' << 8
I_PUSH, I_STR, I_FIND = 0x5302, 0x5308, 0x530B
# asm/unistd*.h: the numbers reserved for STREAMS, wired to sys_ni_syscall
RESERVED = {"x86_64": {"getpmsg": 181, "putpmsg": 182}, "i386": {"getpmsg": 188, "putpmsg": 189}}


def _stub_answer(name: str, fd: int, path: str) -> str:
    """What a libc stub answers for a pipe: its return value or errno, by name."""
    fn = libc.libc[name]
    fn.restype = ctypes.c_int
    args = {"isastream": (fd,), "fattach": (fd, path.encode()), "fdetach": (path.encode(),),
            "getmsg": (fd, None, None, ctypes.byref(ctypes.c_int(0))),
            "putmsg": (fd, None, None, 0),
            "getpmsg": (fd, None, None, ctypes.byref(ctypes.c_int(0)), ctypes.byref(ctypes.c_int(0))),
            "putpmsg": (fd, None, None, 0, 0)}[name]
    ctypes.set_errno(0)
    rc = fn(*args)
    return libc.errno_name(ctypes.get_errno()) if rc == -1 else f"returned {rc}"


@pytest.mark.claim("streams.absent")
def test_libc_streams_calls_absent_or_enosys(ipc, observe, verdict_note):
    """Each STREAMS call is absent from libc, or a stub: ENOSYS, and isastream() says 0 (not a STREAM)."""
    r, w = os.pipe()
    try:
        answers = {name: _stub_answer(name, r, ipc.path("attach")) if absent.libc_has(name) else "absent"
                   for name in STREAMS_CALLS}
    finally:
        os.close(r)
        os.close(w)
    observe("libc", answers)
    allowed = {name: ("absent", "returned 0" if name == "isastream" else "ENOSYS") for name in STREAMS_CALLS}
    wrong = {n: a for n, a in answers.items() if a not in allowed[n]}
    assert not wrong, f"expected STREAMS calls absent or ENOSYS stubs, {absent.libc_version()} gave {wrong}"
    verdict_note(f"not provided on Linux: {absent.libc_version()}: "
                 + ", ".join(f"{n} {a}" for n, a in answers.items()))


@pytest.mark.claim("streams.absent")
@pytest.mark.parametrize("request_code, request_name", [(I_PUSH, "I_PUSH"), (I_STR, "I_STR"), (I_FIND, "I_FIND")],
                         ids=["I_PUSH", "I_STR", "I_FIND"])
@pytest.mark.parametrize("kind", ["pipe", "unix socket"])
def test_streams_ioctls_unknown(kind, request_code, request_name, observe, verdict_note):
    """A STREAMS ioctl on a pipe or a UNIX socket fails with ENOTTY: the kernel knows no such request."""
    if kind == "pipe":
        fd, other = os.pipe()
        close = lambda: (os.close(fd), os.close(other))  # noqa: E731
    else:
        pair = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        fd, close = pair[0].fileno(), lambda: [s.close() for s in pair]  # noqa: E731
    try:
        err = fails_with(errno.ENOTTY, fcntl.ioctl, fd, request_code, 0,
                         what=f"ioctl({kind}, {request_name}={request_code:#x})")
    finally:
        close()
    verdict_note("not provided on Linux: the kernel knows no STREAMS ioctl (I_PUSH, I_STR, I_FIND: ENOTTY)")
    observe("errno", errno.errorcode[err.errno])


@pytest.mark.claim("streams.absent")
@pytest.mark.parametrize("call", ["getpmsg", "putpmsg"])
def test_reserved_syscalls_enosys(call, observe, partial, verdict_note):
    """The getpmsg/putpmsg syscall numbers this ABI reserves for STREAMS answer ENOSYS."""
    number = RESERVED.get(abi.process_abi(), {}).get(call)
    if number is None:
        partial(f"{call} syscall", f"the {abi.process_abi()} ABI reserves no number for {call}")
        return
    fn = libc.libc["syscall"]
    fn.restype = ctypes.c_long
    fn.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                   ctypes.c_void_p]
    err = fails_with(errno.ENOSYS, lambda: libc.check(fn(number, -1, None, None, None, None),
                                                      f"syscall({number} = {call}, -1, NULL, NULL, NULL, NULL)"),
                     what=f"the reserved {call} syscall ({number})")
    observe("errno", errno.errorcode[err.errno])
    verdict_note(f"not provided on Linux: the reserved {call} syscall answers ENOSYS")
