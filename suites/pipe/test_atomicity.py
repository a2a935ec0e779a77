"""pipe.atomic.small: writes of <= PIPE_BUF bytes by concurrent writers are never interleaved.
pipe.atomic.large: writes of > PIPE_BUF bytes may be interleaved (reported; its absence is no failure).
pipe.nonblock.atomicity: O_NONBLOCK does not change the rule: PIPE_BUF or EAGAIN, never a partial count.

Each writer process writes records made of its own byte only, all writers start together (they
wait for EOF on a gate pipe the parent then closes), and the parent drains the pipe. A record that
was not interleaved leaves the stream in runs whose lengths are multiples of the record size."""
import errno
import os
import re
import select

import pytest

from fixtures import libc
from fixtures.procs import ChildTimeout
from fixtures.pipes import (PIPE_BUF, PIPE_SYSCALLS, capacity, close_all, pipe_pair, queued,
                            set_nonblocking)

WRITERS = 4
STALL_BOUND = 5.0  # seconds without data from any writer before the test gives up (only on failure)
_RUN = re.compile(rb"(.)\1*", re.S)


def _write_records(read_end, gate_r, gate_w, write_end, tag, size, count):
    """Wait at the gate, then write `count` records of `size` bytes of `tag`, one write() each.
    With O_NONBLOCK, EAGAIN is waited out with select(); a partial write is finished and counted."""
    close_all(read_end, gate_w)
    libc.read(gate_r, 1)  # blocks until the parent closes the gate's write end: everyone starts at once
    record = bytes([tag]) * size
    stats = {"partial writes": 0, "EAGAIN": 0}
    for _ in range(count):
        data = record
        while data:
            try:
                n = libc.write(write_end, data)
            except OSError as exc:
                if exc.errno != errno.EAGAIN:
                    raise
                stats["EAGAIN"] += 1
                select.select([], [write_end], [], STALL_BOUND)
                continue
            if n < len(data):
                stats["partial writes"] += 1
            data = data[n:]
    return stats


def _run_writers(spawn, p, size, count):
    """Start WRITERS writers of `count` records of `size` bytes; drain the pipe; return (stream, stats)."""
    gate_r, gate_w = os.pipe()
    try:
        writers = [spawn(_write_records, p.r, gate_r, gate_w, p.w, ord("A") + i, size, count,
                         name=f"writer {i}") for i in range(WRITERS)]
    finally:
        os.close(gate_r)
        p.close_write()  # the writers hold the only write ends: EOF once they are done
        os.close(gate_w)  # opens the gate
    stream = bytearray()
    while True:
        ready, _, _ = select.select([p.r], [], [], STALL_BOUND)
        if not ready:
            raise ChildTimeout(f"no data from the writers for {STALL_BOUND}s after {len(stream)} bytes")
        chunk = libc.read(p.r, 65536)
        if not chunk:
            break  # every writer exited: EOF
        stream += chunk
    stats = [w.value(timeout=5) for w in writers]
    return bytes(stream), stats


def _split_runs(stream, size):
    """Runs of one writer's byte whose length is not a whole number of records."""
    return [(m.group(1), len(m.group(0))) for m in _RUN.finditer(stream) if len(m.group(0)) % size]


def _check_every_byte_arrived(stream, size, count):
    totals = {chr(ord("A") + i): stream.count(bytes([ord("A") + i])) for i in range(WRITERS)}
    assert len(stream) == WRITERS * size * count and set(totals.values()) == {size * count}, (
        f"expected {size * count} bytes from each of {WRITERS} writers, read {totals} "
        f"({len(stream)} bytes in all)")


SMALL_SIZES = [PIPE_BUF, 1000]
SMALL_IDS = ["PIPE_BUF-byte records", "1000-byte records"]


@pytest.mark.claim("pipe.atomic.small")
@pytest.mark.parametrize("kind", PIPE_SYSCALLS)
@pytest.mark.parametrize("size", SMALL_SIZES, ids=SMALL_IDS)
def test_small_records_never_interleave(size, kind, spawn, observe):
    """Records of <= PIPE_BUF bytes written concurrently by several processes are read back whole."""
    count = 64
    with pipe_pair(kind) as p:
        stream, stats = _run_writers(spawn, p, size, count)
    split = _split_runs(stream, size)
    observe("records", WRITERS * count)
    observe("split records", len(split))
    observe("partial writes", sum(s["partial writes"] for s in stats))
    _check_every_byte_arrived(stream, size, count)
    assert not split, (f"expected every {size}-byte record whole, {len(split)} runs were cut, first "
                       f"{split[:3]} (byte, run length)")


LARGE_SIZES = [PIPE_BUF + 1, 3 * PIPE_BUF + 100, None]
LARGE_IDS = ["PIPE_BUF+1-byte records", "12388-byte records", "records of twice the capacity"]


@pytest.mark.claim("pipe.atomic.large")
@pytest.mark.parametrize("size", LARGE_SIZES, ids=LARGE_IDS)
def test_large_records_may_interleave(size, spawn, observe):
    """Records of > PIPE_BUF bytes from concurrent writers all arrive; whether any was interleaved is recorded."""
    with pipe_pair() as p:
        if size is None:
            size = 2 * capacity(p.w)
        count = max(4, (256 * 1024) // size)
        stream, stats = _run_writers(spawn, p, size, count)
    split = _split_runs(stream, size)
    observe("record size", size)
    observe("records", WRITERS * count)
    observe("interleaving seen", bool(split), run_specific=True)
    observe("split records", len(split), run_specific=True)
    _check_every_byte_arrived(stream, size, count)


@pytest.mark.claim("pipe.nonblock.atomicity")
@pytest.mark.parametrize("size", SMALL_SIZES, ids=SMALL_IDS)
def test_nonblocking_writers_stay_atomic(size, spawn, observe):
    """Concurrent O_NONBLOCK writers of <= PIPE_BUF-byte records get the whole record or EAGAIN, never a
    partial count, and every record is read back whole."""
    count = 64
    with pipe_pair() as p:
        set_nonblocking(p.w)  # the open file description every writer shares
        stream, stats = _run_writers(spawn, p, size, count)
    split = _split_runs(stream, size)
    partial = sum(s["partial writes"] for s in stats)
    observe("records", WRITERS * count)
    observe("EAGAIN", sum(s["EAGAIN"] for s in stats), run_specific=True)
    observe("partial writes", partial)
    observe("split records", len(split))
    _check_every_byte_arrived(stream, size, count)
    assert partial == 0 and not split, (
        f"expected O_NONBLOCK writes of {size} <= PIPE_BUF bytes to be all-or-EAGAIN and records whole; "
        f"{partial} writes returned a partial count and {len(split)} runs were cut")


@pytest.mark.claim("pipe.nonblock.atomicity")
@pytest.mark.parametrize("size", SMALL_SIZES, ids=SMALL_IDS)
def test_no_room_for_the_whole_record(size, kernel, observe):
    """With fewer than `size` bytes of room left, an O_NONBLOCK write of `size` <= PIPE_BUF bytes
    gets EAGAIN and queues nothing (no partial count), while a write that fits still goes in."""
    page = kernel.page_size
    with pipe_pair() as p:
        set_nonblocking(p.w)
        slots = capacity(p.w) // page
        for _ in range(slots - 1):      # every slot but the last holds a full page
            libc.write(p.w, b"f" * page)
        room = size - 1                 # the last page leaves size-1 bytes: too little for the record
        libc.write(p.w, b"l" * (page - room))
        before = queued(p.r)
        try:
            taken = libc.write(p.w, b"r" * size)
        except BlockingIOError:
            taken = "EAGAIN"
        after = queued(p.r)
        fits = libc.write(p.w, b"s" * room) if room else 0
    observe("room_left", room)
    observe("record_write", taken)
    assert taken == "EAGAIN" and after == before, (
        f"expected a {size}-byte O_NONBLOCK write with {room} bytes of room to get EAGAIN and queue "
        f"nothing, kernel returned {taken} ({after - before} bytes queued)")
    assert fits == room, f"expected a {room}-byte write that fits to go in whole, kernel took {fits}"
