"""pshm.size: a new object has size 0; ftruncate sets the size and fstat reads it; the bytes an
extension adds read as zeros, through read(2) and through a mapping."""
import os

import pytest

from fixtures import shared_memory as shm


@pytest.mark.claim("pshm.size")
def test_new_object_is_empty_and_ftruncate_sets_size(shm_object, observe):
    """fstat reads 0 for a new object, then each size ftruncate gives it (up and down)."""
    _, fd = shm_object()
    page = shm.page_size()
    sizes = [os.fstat(fd).st_size]
    for length in (3 * page + 123, page, 0):
        shm.ftruncate(fd, length)
        sizes.append(os.fstat(fd).st_size)
    observe("sizes: new, 3 pages+123, 1 page, 0", sizes)
    assert sizes == [0, 3 * page + 123, page, 0], (
        f"expected fstat to read 0 for a new object, then the sizes ftruncate set "
        f"{[3 * page + 123, page, 0]}; it read {sizes}")


@pytest.mark.claim("pshm.size")
def test_extension_reads_as_zeros(shm_object, observe):
    """Data in the first bytes stays; what ftruncate adds reads as zeros by read(2) and in a mapping."""
    _, fd = shm_object()
    page = shm.page_size()
    head = b"written before the extension"
    shm.ftruncate(fd, len(head))
    os.pwrite(fd, head, 0)
    size = 2 * page + 99
    shm.ftruncate(fd, size)
    by_read = os.pread(fd, size, 0)
    with shm.Mapping(size, shm.PROT_READ, shm.MAP_SHARED, fd) as area:
        mapped = area.read(0, size)
    zeros = b"\0" * (size - len(head))
    observe("extension is zeros by read(2)", by_read[len(head):] == zeros)
    observe("extension is zeros in a mapping", mapped[len(head):] == zeros)
    assert by_read == mapped == head + zeros, (
        f"expected the object to read as its {len(head)} bytes then {len(zeros)} zeros; read(2) got "
        f"{by_read.rstrip(bytes(1))[:64]!r}... and the mapping {mapped.rstrip(bytes(1))[:64]!r}...")
