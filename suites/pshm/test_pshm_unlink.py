"""pshm.unlink: shm_unlink removes the name at once while existing mappings and descriptors stay
valid and keep the object's data."""
import errno
import os

import pytest

import pshm_helpers as ph
from fixtures import shared_memory as shm
from fixtures.expect import fails_with


@pytest.mark.claim("pshm.unlink")
def test_unlink_removes_name_mapping_stays(shm_object, observe):
    """After shm_unlink the name gives ENOENT, the mapping keeps its data and still shares it with the fd."""
    name, fd = shm_object(shm.page_size())
    with shm.Mapping(shm.page_size(), fd=fd) as area:
        area.write(0, b"before unlink")
        shm.shm_unlink(name)
        listed = os.path.exists(ph.dev_shm_path(name))
        observe("in /dev/shm after shm_unlink", listed)
        assert not listed, f"expected shm_unlink({name!r}) to remove {ph.dev_shm_path(name)}"
        fails_with(errno.ENOENT, shm.shm_open, name, os.O_RDWR,
                   what=f"shm_open({name!r}) without O_CREAT after shm_unlink")
        kept = area.read(0, 13)
        area.write(64, b"after unlink")
        through_fd = os.pread(fd, 12, 64)
    observe("mapping keeps its data", kept == b"before unlink")
    observe("mapping and fd still share the object", through_fd == b"after unlink")
    assert (kept, through_fd) == (b"before unlink", b"after unlink"), (
        f"expected the mapping to keep b'before unlink' and a write through it to reach the "
        f"descriptor after shm_unlink; the mapping read {kept!r}, the descriptor {through_fd!r}")
