"""pipe.nonblock.small: O_NONBLOCK, n <= PIPE_BUF without room for all n: EAGAIN, nothing written.
pipe.nonblock.large: O_NONBLOCK, n > PIPE_BUF: writes what fits and returns the count written; EAGAIN when full.
pipe.nonblock.read: O_NONBLOCK read of an empty pipe: EAGAIN while a writer exists, 0 when none does."""
import errno
import os

import pytest

from fixtures import libc
from fixtures.expect import fails_with, succeeds
from fixtures.pipes import PIPE_BUF, capacity, pipe_pair, queued, set_nonblocking

# The two ways a program gets an O_NONBLOCK pipe: F_SETFL after pipe() (UNP's way), or pipe2().
NONBLOCK_WAYS = ["pipe + F_SETFL", "pipe2(O_NONBLOCK)"]


def nonblocking_pipe(way):
    if way == "pipe2(O_NONBLOCK)":
        return pipe_pair("pipe2", os.O_NONBLOCK)
    p = pipe_pair("pipe")
    set_nonblocking(p.r)
    set_nonblocking(p.w)
    return p


def _prefill(p, nbytes):
    """Queue nbytes with one write: whole pages, the last one partly filled when nbytes is not page-aligned."""
    if nbytes:
        assert libc.write(p.w, b"a" * nbytes) == nbytes


# (free bytes left in a pipe whose page slots are all in use except as noted, bytes written)
SMALL = [(0, 1), (100, 101), (100, PIPE_BUF), (PIPE_BUF - 1, PIPE_BUF), (100, 100), (PIPE_BUF, PIPE_BUF)]
SMALL_IDS = ["full, 1 byte", "100 free, 101 bytes", "100 free, PIPE_BUF bytes", "PIPE_BUF-1 free, PIPE_BUF bytes",
             "100 free, 100 bytes (fits)", "one free page, PIPE_BUF bytes (fits)"]


@pytest.mark.claim("pipe.nonblock.small")
@pytest.mark.parametrize("way", NONBLOCK_WAYS)
@pytest.mark.parametrize("free, n", SMALL, ids=SMALL_IDS)
def test_small_write_all_or_eagain(free, n, way, observe):
    """An O_NONBLOCK write of n <= PIPE_BUF bytes goes in whole when n bytes are free, else fails with
    EAGAIN and adds nothing, even when some room is free."""
    with nonblocking_pipe(way) as p:
        cap = capacity(p.w)
        _prefill(p, cap - free)
        if n <= free:
            written = succeeds(libc.write, p.w, b"s" * n, what=f"O_NONBLOCK write of {n} bytes with {free} free")
            observe("write", written)
            assert written == n, f"expected all {n} bytes written with {free} free, write returned {written}"
            return
        refused = fails_with(errno.EAGAIN, libc.write, p.w, b"s" * n,
                             what=f"O_NONBLOCK write of {n} <= PIPE_BUF bytes with only {free} free")
        observe("write", libc.errno_name(refused.errno))
        added = queued(p.r) - (cap - free)
        assert added == 0, f"expected nothing written by the refused write, {added} bytes went in"


# (free page slots, bytes written beyond the free room; None: an empty pipe and capacity +
# PIPE_BUF bytes). Relative to the room, so that 16 KiB pages give the same case as 4 KiB ones.
LARGE = [(None, None), (2, 11808), (0, 8192)]
LARGE_IDS = ["empty, capacity + PIPE_BUF bytes", "two free pages, 11808 bytes more than fit",
             "full, 8192 bytes"]


@pytest.mark.claim("pipe.nonblock.large")
@pytest.mark.parametrize("way", NONBLOCK_WAYS)
@pytest.mark.parametrize("free_pages, beyond", LARGE, ids=LARGE_IDS)
def test_large_write_partial_count(free_pages, beyond, way, kernel, observe):
    """An O_NONBLOCK write of n > PIPE_BUF bytes writes as much as fits and returns that count (not the
    count left over); only a full pipe gives EAGAIN."""
    with nonblocking_pipe(way) as p:
        cap = capacity(p.w)
        if free_pages is None:
            free, n = cap, cap + PIPE_BUF
        else:
            free = free_pages * kernel.page_size
            n = free + beyond
        _prefill(p, cap - free)
        if free == 0:
            refused = fails_with(errno.EAGAIN, libc.write, p.w, b"L" * n,
                                 what=f"O_NONBLOCK write of {n} bytes into a full pipe")
            observe("write", libc.errno_name(refused.errno))
            return
        written = succeeds(libc.write, p.w, b"L" * n, what=f"O_NONBLOCK write of {n} bytes with {free} free")
        added = queued(p.r) - (cap - free)
        observe("write", written)
        observe("bytes not written", n - written)
        assert written == added == free, (
            f"expected write({n}) with {free} bytes free to write {free} and return {free} (the count "
            f"written; {n - free} would be the count left over), it returned {written} and added {added}")


def _write_with_100_free(n):
    """write(n) to an O_NONBLOCK pipe whose page slots are all used, 100 bytes free in the last one."""
    with nonblocking_pipe("pipe + F_SETFL") as p:
        _prefill(p, capacity(p.w) - 100)
        try:
            return libc.write(p.w, b"L" * n)
        except OSError as exc:
            return libc.errno_name(exc.errno)


@pytest.mark.claim("pipe.nonblock.large")
def test_large_write_room_counted_in_pages(kernel, observe):
    """Linux counts an O_NONBLOCK pipe's room in pages: with every page slot used and 100 bytes free in the
    last page, a large write gets in only if its n % PAGE_SIZE tail fits there (100 bytes), else EAGAIN."""
    fits, does_not = kernel.page_size + 100, kernel.page_size + 101
    outcomes = {n: _write_with_100_free(n) for n in (fits, does_not)}
    observe("100 free in the last page", {f"write({n})": v for n, v in outcomes.items()})
    assert outcomes[fits] == 100, (
        f"expected write({fits}) to top up the last page with the 100 bytes that fit, got {outcomes[fits]}")
    assert outcomes[does_not] == "EAGAIN", (
        f"expected write({does_not}) to get EAGAIN: its {does_not % kernel.page_size}-byte tail does not fit "
        f"the 100 free bytes and no page slot is free; got {outcomes[does_not]}")


@pytest.mark.claim("pipe.nonblock.read")
@pytest.mark.parametrize("way", NONBLOCK_WAYS)
def test_empty_read_eagain_with_writer(way, observe):
    """An O_NONBLOCK read of an empty pipe whose write end is open fails with EAGAIN."""
    with nonblocking_pipe(way) as p:
        refused = fails_with(errno.EAGAIN, libc.read, p.r, 100,
                             what="O_NONBLOCK read of an empty pipe with a writer")
    observe("read with a writer", libc.errno_name(refused.errno))


@pytest.mark.claim("pipe.nonblock.read")
@pytest.mark.parametrize("way", NONBLOCK_WAYS)
def test_empty_read_eof_without_writer(way, observe):
    """An O_NONBLOCK read of an empty pipe with no write end left returns 0 (end of file), not EAGAIN."""
    with nonblocking_pipe(way) as p:
        libc.write(p.w, b"last")
        p.close_write()
        first = libc.read(p.r, 100)
        try:
            after = len(libc.read(p.r, 100))
        except OSError as exc:
            after = libc.errno_name(exc.errno)
    observe("read without a writer", after)
    assert (first, after) == (b"last", 0), (
        f"expected the queued b'last' and then 0 (EOF) with no writer, read gave {first!r} then {after!r}")
