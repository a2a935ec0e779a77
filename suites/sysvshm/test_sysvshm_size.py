"""sysvshm.size: shmget with size 0 opens an existing segment (as does any size up to its own) but
cannot create one: a size below SHMMIN (1) fails with EINVAL, as do a size larger than the existing
segment's and a new segment larger than shmmax."""
import ctypes
import errno

import pytest

from fixtures import libc, sysv
from fixtures.expect import fails_with

CREATE = libc.IPC_CREAT | libc.IPC_EXCL | 0o600


def _shmget_new(ipc, key, size):
    """shmget creating a segment; one the kernel should have refused is still removed at teardown."""
    return ipc.adopt_sysv("sysv_shm", libc.shmget(key, size, CREATE), key)


@pytest.mark.claim("sysvshm.size")
def test_existing_segment_opened_with_size_up_to_its_own(ipc, kernel, observe):
    """shmget(key, size) of an existing segment of page + 123 bytes returns its id for sizes 0, 1 and
    page + 123, and fails with EINVAL for page + 124 (the size, not the pages, is compared)."""
    size = kernel.page_size + 123
    key = ipc.key()
    shmid = ipc.shm(size, key=key)
    opened = {n: libc.shmget(key, n, 0o600) for n in (0, 1, size)}
    observe("ids match", all(v == shmid for v in opened.values()))
    assert opened == {n: shmid for n in opened}, (
        f"expected shmget of the existing key with sizes 0, 1 and {size} to return id {shmid}, "
        f"kernel gave {opened}")
    err = fails_with(errno.EINVAL, libc.shmget, key, size + 1, 0o600,
                     what=f"shmget(existing {size}-byte segment, size={size + 1})")
    observe("errno for more than the segment's size", libc.errno_name(err.errno))


@pytest.mark.claim("sysvshm.size")
@pytest.mark.parametrize("how", ["key", "private"])
def test_new_segment_below_shmmin_einval(ipc, observe, how):
    """Creating a segment of SHMMIN - 1 bytes (0: SHMMIN is 1, as IPC_INFO says) fails with EINVAL."""
    shmmin = sysv.ipc_info("shm").shmmin
    observe("shmmin", shmmin)
    assert shmmin == 1, f"expected IPC_INFO shmmin 1 (SHMMIN), kernel reported {shmmin}"
    key = ipc.key() if how == "key" else libc.IPC_PRIVATE
    err = fails_with(errno.EINVAL, _shmget_new, ipc, key, shmmin - 1,
                     what=f"shmget({'a new key' if key else 'IPC_PRIVATE'}, size={shmmin - 1}, IPC_CREAT)")
    observe("errno", libc.errno_name(err.errno))


@pytest.mark.claim("sysvshm.size")
def test_new_segment_above_shmmax_einval(ipc, kernel, observe, partial):
    """Creating a segment of shmmax + 1 bytes fails with EINVAL (shmmax as /proc/sys/kernel/shmmax
    says: IPC_INFO clamps it for a 32-bit caller, the check in shmget does not)."""
    text = kernel.sysctl("kernel/shmmax")
    if text is None:
        partial("shmmax + 1", "/proc/sys/kernel/shmmax is unreadable")
        return
    shmmax = int(text)
    observe("shmmax", shmmax)
    observe("shmmni", int(kernel.sysctl("kernel/shmmni") or 0))
    if shmmax >= 2 ** (8 * ctypes.sizeof(ctypes.c_size_t)) - 1:
        partial("shmmax + 1", f"shmmax is {shmmax}: no size_t of this process is larger")
        return
    err = fails_with(errno.EINVAL, _shmget_new, ipc, ipc.key(), shmmax + 1,
                     what=f"shmget(new key, size={shmmax + 1} = shmmax + 1, IPC_CREAT)")
    observe("errno", libc.errno_name(err.errno))
