"""pshm.open: shm_open("/name", O_CREAT|O_EXCL|O_RDWR) makes /dev/shm/name; O_CREAT|O_EXCL on an
existing name fails with EEXIST; O_TRUNC truncates an existing object to 0 bytes."""
import errno
import os
import stat

import pytest

import pshm_helpers as ph
from fixtures import shared_memory as shm
from fixtures.expect import fails_with


@pytest.mark.claim("pshm.open")
def test_create_appears_in_dev_shm_and_excl_fails(shm_object, observe):
    """The new object is the file /dev/shm/NAME (same inode as the fd); a second O_CREAT|O_EXCL gives EEXIST."""
    name, fd = shm_object()
    path = ph.dev_shm_path(name)
    listed = os.path.basename(path) in os.listdir("/dev/shm")
    observe("listed in /dev/shm", listed)
    assert listed, f"expected shm_open({name!r}, O_CREAT) to make {path}, /dev/shm does not list it"
    same = os.stat(path).st_ino == os.fstat(fd).st_ino and stat.S_ISREG(os.fstat(fd).st_mode)
    observe("the fd is that file", same)
    assert same, f"expected the descriptor shm_open returned to be the regular file {path}"
    err = fails_with(errno.EEXIST, shm.shm_open, name, ph.CREATE, 0o600,
                     what=f"shm_open({name!r}, O_CREAT|O_EXCL) of an existing object")
    observe("errno", errno.errorcode[err.errno])


@pytest.mark.claim("pshm.open")
def test_o_trunc_truncates_to_zero(shm_object, observe):
    """Reopening an object that holds data with O_RDWR|O_TRUNC leaves it 0 bytes long."""
    name, fd = shm_object(shm.page_size())
    os.pwrite(fd, b"data", 0)
    before = os.fstat(fd).st_size
    again = shm.shm_open(name, os.O_RDWR | os.O_TRUNC)
    try:
        after = os.fstat(again).st_size
    finally:
        os.close(again)
    observe("size before O_TRUNC", before)
    observe("size after O_TRUNC", after)
    assert (before, after) == (shm.page_size(), 0), (
        f"expected shm_open(O_TRUNC) to truncate the {before}-byte object to 0, it is {after} bytes")
