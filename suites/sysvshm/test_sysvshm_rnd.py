"""sysvshm.rnd: shmat at an address that is not a multiple of SHMLBA attaches, with SHM_RND, at that
address rounded down to a multiple of SHMLBA, and without SHM_RND fails with EINVAL. SHMLBA is the
architecture's (the page size on x86, 4 pages for 32-bit ARM), not the page size everywhere."""
import pytest

import sysvshm_helpers as shm
from fixtures import libc, sysv
from fixtures.verdict import precondition

SIZE = 4096


def _attach_at(shmid, offsets, align):
    """In a child (one thread: nothing maps between the reservation and shmat): attach at
    base + offset for each offset; what shmat returned (as an offset from base) or the errno."""
    got = {}
    for name, offset, flags in offsets:
        with precondition("find a free SHMLBA-aligned address range"):
            base = shm.free_aligned_range(SIZE + align, align)
        try:
            addr = sysv.shmat(shmid, base + offset, flags)
        except OSError as exc:
            got[name] = libc.errno_name(exc.errno)
            continue
        sysv.shmdt(addr)
        got[name] = addr - base
    return got


@pytest.mark.claim("sysvshm.rnd")
def test_shm_rnd_rounds_down_to_shmlba(ipc, spawn, kernel, observe, partial):
    """With SHM_RND, base + 1, base + half a page + 3 and base + SHMLBA - 1 all attach at base (a
    multiple of SHMLBA), and base + a page too where SHMLBA is larger; without SHM_RND, base + 1
    fails with EINVAL and base itself attaches at base."""
    shmlba = shm.shmlba()
    observe("SHMLBA", shmlba)
    page = kernel.page_size
    cases = [("unaligned_without_SHM_RND", 1, 0), ("aligned_without_SHM_RND", 0, 0)]
    if shmlba is None:
        partial("SHM_RND rounding",
                "SHMLBA of this architecture is not tabled (sysvshm_helpers.SHMLBA_PAGES)")
        align = page
    else:
        align = shmlba
        cases += [("plus_1", 1, sysv.SHM_RND), ("plus_half_page", page // 2 + 3, sysv.SHM_RND),
                  ("plus_SHMLBA_minus_1", shmlba - 1, sysv.SHM_RND)]
        if shmlba > page:
            cases.append(("plus_a_page", page, sysv.SHM_RND))
    shmid = ipc.shm(SIZE)
    with shm.attached(shmid):  # nattch never drops to 0 between the child's attaches (which
        # would destroy the segment with kernel.shm_rmid_forced=1); the child inherits this one
        got = spawn.run(_attach_at, shmid, cases, align, name="attacher", timeout=2).unwrap()
    observe("attached at (offset from base)", got)
    expected = {name: 0 for name, _, flags in cases if flags}
    expected.update({"unaligned_without_SHM_RND": "EINVAL", "aligned_without_SHM_RND": 0})
    assert got == expected, (
        f"expected every SHM_RND attach at base (offset 0, SHMLBA {align}), base + 1 without SHM_RND "
        f"refused with EINVAL and base itself accepted: {expected}; kernel gave {got}")
