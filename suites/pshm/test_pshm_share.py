"""pshm.share: unrelated processes (one exec'd, opening the object by name) that map the same shared
memory object MAP_SHARED see each other's writes."""
import os
import sys

import pytest

from fixtures import shared_memory as shm
from fixtures.pipes import read_to_eof

FROM_PARENT, FROM_OTHER = b"written by the creator", b"written by the exec'd process"
REPLY_AT = 256

# The other program (a fresh image: nothing of the parent's memory): open the object by name,
# map it, report what it finds there and write its own reply. argv: name, size, report fd. It
# loads nothing of the suite (ctypes.util.find_library alone would cost a subprocess).
OTHER_PROGRAM = f"""
import ctypes, mmap, os, sys
name, size, report = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
try:
    shm_open = ctypes.CDLL(None, use_errno=True).shm_open
except AttributeError:  # glibc before 2.34 keeps it in librt
    shm_open = ctypes.CDLL("librt.so.1", use_errno=True).shm_open
shm_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint]
fd = shm_open(name.encode(), os.O_RDWR, 0)
if fd < 0:
    raise OSError(ctypes.get_errno(), "shm_open(" + repr(name) + ", O_RDWR)")
area = mmap.mmap(fd, size, mmap.MAP_SHARED)
found = area[:{len(FROM_PARENT)}]
area[{REPLY_AT}:{REPLY_AT + len(FROM_OTHER)}] = {FROM_OTHER!r}
os.write(report, found)
"""


def _exec_other(name, size, report_fd):
    os.set_inheritable(report_fd, True)
    os.execv(sys.executable, [sys.executable, "-I", "-S", "-c", OTHER_PROGRAM, name, str(size),
                              str(report_fd)])


@pytest.mark.claim("pshm.share")
def test_exec_d_process_shares_mapping(shm_object, spawn, observe):
    """An exec'd program sees the creator's bytes in its own mapping, and the creator sees its reply."""
    size = shm.page_size()
    name, fd = shm_object(size)
    r, w = os.pipe()
    with shm.Mapping(size, fd=fd) as area:
        area.write(0, FROM_PARENT)
        other = spawn(_exec_other, name, size, w, name="exec'd program")
        os.close(w)
        try:
            found = read_to_eof(r, timeout=5, what="the exec'd program")
        finally:
            os.close(r)
        ended = other.result(timeout=5)
        reply = area.read(REPLY_AT, len(FROM_OTHER))
    observe("exec'd program saw the creator's write", found == FROM_PARENT)
    observe("creator saw the exec'd program's write", reply == FROM_OTHER)
    assert (found, reply) == (FROM_PARENT, FROM_OTHER), (
        f"expected the exec'd program to read {FROM_PARENT!r} in its mapping and the creator to read "
        f"its reply {FROM_OTHER!r}; it read {found!r}, the creator {reply!r} (the program {ended})")
