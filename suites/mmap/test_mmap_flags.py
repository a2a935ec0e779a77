"""mmap.flags: mmap with neither MAP_SHARED nor MAP_PRIVATE fails with EINVAL; MAP_SHARED|MAP_PRIVATE
is MAP_SHARED_VALIDATE for a file mapping since Linux 4.15 (EINVAL before, and for anonymous ones)."""
import errno
import os

import pytest

import mmap_helpers as mh
from fixtures import shared_memory as shm
from fixtures.expect import fails_with, succeeds


@pytest.fixture
def backing(request, ipc):
    """-1 for an anonymous mapping, else a descriptor of a one-page scratch file (closed at teardown)."""
    if request.param == "anonymous":
        yield -1, shm.MAP_ANONYMOUS
        return
    fd = os.open(mh.scratch_file(ipc, b"", shm.page_size()), os.O_RDWR)
    yield fd, 0
    os.close(fd)


@pytest.mark.claim("mmap.flags")
@pytest.mark.parametrize("backing", ["anonymous", "file"], indirect=True)
def test_neither_shared_nor_private_is_einval(backing, observe):
    """Flags without MAP_SHARED or MAP_PRIVATE (only MAP_ANONYMOUS, or 0 for a file) are refused with EINVAL."""
    fd, extra = backing
    err = fails_with(errno.EINVAL, shm.mmap, shm.page_size(), shm.PROT_READ, extra, fd,
                     what="mmap without MAP_SHARED or MAP_PRIVATE")
    observe("errno", errno.errorcode[err.errno])


@pytest.mark.claim("mmap.flags")
@pytest.mark.parametrize("backing", ["anonymous", "file"], indirect=True)
def test_shared_and_private_together(backing, kernel, observe):
    """MAP_SHARED|MAP_PRIVATE maps a file as MAP_SHARED_VALIDATE since 4.15; otherwise it is EINVAL."""
    fd, extra = backing
    flags = shm.MAP_SHARED | shm.MAP_PRIVATE | extra
    page = shm.page_size()
    validate = fd != -1 and kernel.at_least(4, 15)  # do_mmap knows it for file mappings only
    if not validate:
        fails_with(errno.EINVAL, shm.mmap, page, shm.PROT_READ, flags, fd,
                   what="mmap(MAP_SHARED|MAP_PRIVATE" + (", MAP_ANONYMOUS)" if fd == -1 else
                                                         ") of a file before 4.15"))
        observe("MAP_SHARED|MAP_PRIVATE", "EINVAL")
        return
    addr = succeeds(shm.mmap, page, shm.PROT_READ, flags, fd,
                    what="mmap(MAP_SHARED|MAP_PRIVATE = MAP_SHARED_VALIDATE) of a file since 4.15")
    shm.munmap(addr, page)
    observe("MAP_SHARED|MAP_PRIVATE", "mapped (MAP_SHARED_VALIDATE)")
