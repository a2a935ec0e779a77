"""pipe.setpipe_sz.max, pipe.setpipe_sz.round, pipe.page_size: F_SETPIPE_SZ limits, rounding
and the one-page minimum."""
import errno
import os

import pytest

from fixtures import libc
from fixtures.expect import fails_with, succeeds
from fixtures.facility import present_since
from fixtures.libc import fcntl
from fixtures.pipes import close_all, fill

PIPE_MAX_SIZE = "fs/pipe-max-size"


def _setpipe_sz_absent(kernel, observe, note=None) -> bool:
    """True where the kernel has F_SETPIPE_SZ (2.6.35+, or a backport); before, it is an
    unknown fcntl command and EINVAL, the documented behaviour, is what gets checked."""
    r, w = os.pipe()
    try:
        if present_since(kernel, (2, 6, 35), "F_GETPIPE_SZ",
                         lambda: fcntl(w, libc.F_GETPIPE_SZ), note=note):
            return False
        fails_with(errno.EINVAL, fcntl, w, libc.F_SETPIPE_SZ, 65536,
                   what=f"F_SETPIPE_SZ on {kernel.release} (before 2.6.35)")
        observe("F_SETPIPE_SZ", "EINVAL")
        return True
    finally:
        close_all(r, w)


def _set_sizes(max_size: int) -> dict:
    """In a process without CAP_SYS_RESOURCE: set the capacity to pipe-max-size, then just above."""
    r, w = os.pipe()
    try:
        got = succeeds(fcntl, w, libc.F_SETPIPE_SZ, max_size,
                       what=f"F_SETPIPE_SZ({max_size}) = pipe-max-size, unprivileged")
        now = fcntl(r, libc.F_GETPIPE_SZ)
        above = fails_with(errno.EPERM, fcntl, w, libc.F_SETPIPE_SZ, max_size + 1,
                           what=f"F_SETPIPE_SZ({max_size + 1}) above pipe-max-size, unprivileged")
        after = fcntl(r, libc.F_GETPIPE_SZ)
        return {"set_to_max": got, "get_after_max": now,
                "unprivileged_above_max": libc.errno_name(above.errno),
                "get_after_refusal": after, "unprivileged_uid": os.getuid()}
    finally:
        close_all(r, w)


@pytest.mark.claim("pipe.setpipe_sz.max")
def test_unprivileged_up_to_max_then_eperm(kernel, privilege, observe):
    """Without CAP_SYS_RESOURCE a pipe grows to pipe-max-size, and one byte more is EPERM."""
    if _setpipe_sz_absent(kernel, observe):
        return
    max_size = kernel.limit(PIPE_MAX_SIZE)
    observe("pipe-max-size", max_size)
    got = privilege.unprivileged(_set_sizes, max_size).unwrap()
    for name, value in got.items():
        observe(name, value)
    assert got["set_to_max"] == max_size and got["get_after_max"] == max_size, (
        f"expected F_SETPIPE_SZ/F_GETPIPE_SZ to give pipe-max-size {max_size}, "
        f"kernel gave {got['set_to_max']}/{got['get_after_max']}")
    assert got["get_after_refusal"] == max_size, (
        f"the refused F_SETPIPE_SZ must leave the capacity at {max_size}, "
        f"F_GETPIPE_SZ says {got['get_after_refusal']}")


@pytest.mark.claim("pipe.setpipe_sz.max")
def test_above_max_follows_cap_sys_resource(kernel, privilege, observe):
    """Above pipe-max-size this process succeeds iff it holds CAP_SYS_RESOURCE (uid 0 is not enough)."""
    if _setpipe_sz_absent(kernel, observe):
        return
    max_size = kernel.limit(PIPE_MAX_SIZE)
    wanted = 2 * max_size  # the next power-of-two page count above the limit
    privileged = privilege.has("CAP_SYS_RESOURCE")
    observe("CAP_SYS_RESOURCE", privileged)
    observe("this_uid", os.getuid())
    r, w = os.pipe()
    try:
        if privileged:
            got = succeeds(fcntl, w, libc.F_SETPIPE_SZ, wanted,
                           what=f"F_SETPIPE_SZ({wanted}) with CAP_SYS_RESOURCE")
            observe("this_process_above_max", got)
            assert got == wanted, f"expected capacity {wanted} with CAP_SYS_RESOURCE, kernel set {got}"
        else:
            exc = fails_with(errno.EPERM, fcntl, w, libc.F_SETPIPE_SZ, wanted,
                             what=f"F_SETPIPE_SZ({wanted}) by uid {os.getuid()} without "
                                  "CAP_SYS_RESOURCE")
            observe("this_process_above_max", libc.errno_name(exc.errno))
    finally:
        close_all(r, w)


def _pages_for(request: int, page: int) -> int:
    """What round_pipe_size() gives: ceil(request / page) pages, up to a power of two."""
    pages = max(1, -(-request // page))
    return page * (1 << (pages - 1).bit_length())


# Requests in pages (and a byte or so either side of a page), for a 4096-byte page:
# 1 -> 4096, 4095 -> 4096, 4097 -> 8192, 3 pages -> 4, 5 -> 8, 17 -> 32.
ROUND_CASES = [(0, 1), (1, -1), (1, 0), (1, 1), (2, 0), (3, 0), (5, 0), (16, 0), (17, 0)]
ROUND_IDS = ["1-byte", "page-1", "page", "page+1", "2-pages", "3-pages", "5-pages", "16-pages",
             "17-pages"]


@pytest.mark.claim("pipe.setpipe_sz.round")
@pytest.mark.parametrize("pages,extra", ROUND_CASES, ids=ROUND_IDS)
def test_request_rounds_to_power_of_two_pages(kernel, privilege, observe, pages, extra):
    """F_SETPIPE_SZ returns the request rounded up to a power-of-two number of pages."""
    if _setpipe_sz_absent(kernel, observe):
        return
    request = pages * kernel.page_size + extra
    expected = _pages_for(request, kernel.page_size)
    r, w = os.pipe()
    try:
        if expected > kernel.limit(PIPE_MAX_SIZE) and not privilege.has("CAP_SYS_RESOURCE"):
            # Large pages (64K): the rounded size is over pipe-max-size, which is refused
            # before anything is set (pipe.setpipe_sz.max).
            exc = fails_with(errno.EPERM, fcntl, w, libc.F_SETPIPE_SZ, request,
                             what=f"F_SETPIPE_SZ({request}), rounded to {expected} > pipe-max-size")
            observe("capacity", libc.errno_name(exc.errno))
            return None
        got = succeeds(fcntl, w, libc.F_SETPIPE_SZ, request, what=f"F_SETPIPE_SZ({request})")
        reported = fcntl(r, libc.F_GETPIPE_SZ)
    finally:
        close_all(r, w)
    observe("request", request)
    observe("capacity", got)
    assert (got, reported) == (expected, expected), (
        f"F_SETPIPE_SZ({request}): expected {expected} returned and reported by F_GETPIPE_SZ, "
        f"kernel returned {got}, F_GETPIPE_SZ {reported}")


@pytest.mark.claim("pipe.setpipe_sz.round")
def test_shrink_below_held_data_is_ebusy(kernel, observe):
    """A pipe holding three pages refuses to shrink to one page (EBUSY) but shrinks to four."""
    if _setpipe_sz_absent(kernel, observe):
        return
    page = kernel.page_size
    held = b"".join(bytes([ord("a") + i]) * page for i in range(3))
    r, w = libc.pipe2(os.O_NONBLOCK)  # a pipe shrunk by pipe-user-pages-soft must not hang the test
    try:
        put = libc.write(w, held)
        assert put == len(held), f"a new pipe should take {len(held)} bytes, it took {put}"
        exc = fails_with(errno.EBUSY, fcntl, w, libc.F_SETPIPE_SZ, page,
                         what=f"F_SETPIPE_SZ({page}) on a pipe holding {len(held)} bytes")
        observe("shrink_below_held", libc.errno_name(exc.errno))
        observe("capacity_after_refusal", fcntl(w, libc.F_GETPIPE_SZ))
        got = succeeds(fcntl, w, libc.F_SETPIPE_SZ, 4 * page,
                       what=f"F_SETPIPE_SZ({4 * page}) on a pipe holding {len(held)} bytes")
        observe("shrunk_to", got)
        data = libc.read(r, len(held) + 1)
    finally:
        close_all(r, w)
    assert data == held, (f"shrinking to {got} bytes must keep the {len(held)} held bytes, "
                          f"read back {len(data)} bytes")


@pytest.mark.claim("pipe.page_size")
def test_minimum_capacity_is_one_page(kernel, observe):
    """F_SETPIPE_SZ(1) gives getpagesize() bytes (4096 on x86), and the pipe then holds exactly that."""
    if _setpipe_sz_absent(kernel, observe):
        return
    page = os.sysconf("SC_PAGE_SIZE")
    observe("page_size", page)
    if kernel.arch in ("x86_64", "i386", "i686"):
        assert page == 4096, f"expected a 4096-byte page on {kernel.arch}, getpagesize() is {page}"
    r, w = libc.pipe2(os.O_NONBLOCK)
    try:
        minimum = succeeds(fcntl, w, libc.F_SETPIPE_SZ, 1, what="F_SETPIPE_SZ(1)")
        held = fill(w, 4096, to_the_byte=True)
    finally:
        close_all(r, w)
    observe("min_capacity", minimum)
    observe("held", held)
    assert (minimum, held) == (page, page), (
        f"expected the smallest pipe to be one page ({page} bytes) and hold {page} bytes, "
        f"kernel set {minimum} and took {held}")
