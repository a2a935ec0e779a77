"""pshm.share: unrelated processes (one exec'd, opening the object by name) that map the same shared
memory object MAP_SHARED see each other's writes."""
import os
import sys

import pytest

from fixtures import catalogue
from fixtures import shared_memory as shm
from fixtures.pipes import read_to_eof

FROM_PARENT, FROM_OTHER = b"written by the creator", b"written by the exec'd process"
REPLY_AT = 256

# The other program (a fresh image: nothing of the parent's memory): open the object by name,
# map it, report what it finds there and write its own reply. argv: root, name, size, report fd.
OTHER_PROGRAM = f"""
import os, sys
sys.path.insert(0, sys.argv[1])
from fixtures import shared_memory as shm
name, size, report = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
fd = shm.shm_open(name, os.O_RDWR)
area = shm.Mapping(size, fd=fd)
found = area.read(0, {len(FROM_PARENT)})
area.write({REPLY_AT}, {FROM_OTHER!r})
os.write(report, found)
"""


def _exec_other(name, size, report_fd):
    os.set_inheritable(report_fd, True)
    os.execv(sys.executable, [sys.executable, "-S", "-c", OTHER_PROGRAM, catalogue.ROOT, name,
                              str(size), str(report_fd)])


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
