"""psem.unnamed_shared: two unnamed semaphores (sem_init pshared=1) inside a MAP_SHARED POSIX shared
memory object make a writer and a reader take turns: the LCA 2013 example moves a block of data through
the 1024-byte shared buffer intact."""
import ctypes
import os
import random

import pytest

from fixtures import posix_sem as ps
from fixtures import shared_memory as shm
from fixtures.verdict import precondition

BUF_SIZE = 1024  # the example's struct shmbuf { sem_t wsem; sem_t rsem; int cnt; char buf[1024]; }
WSEM, RSEM = 0, 1  # slots
CNT_AT = 2 * ps.SEM_SLOT
BUF_AT = CNT_AT + 64
SHMBUF_SIZE = BUF_AT + BUF_SIZE
DATA = random.Random(2013).randbytes(40 * BUF_SIZE + 321)  # a partial last block, no period


def _map(name):
    """shm_open the object by name and map it, as each of the example's programs does."""
    fd = shm.shm_open(name, os.O_RDWR)
    try:
        return shm.mmap(SHMBUF_SIZE, fd=fd)
    finally:
        os.close(fd)


def _writer(name, data):
    """The example's writer loop, reading `data` instead of stdin; returns its transfer count."""
    base = _map(name)
    wsem, rsem = ps.slot_at(base, WSEM), ps.slot_at(base, RSEM)
    cnt = ctypes.c_int.from_address(base + CNT_AT)
    xfrs, pos = 0, 0
    while True:
        ps.sem_wait(wsem)  # wait for our turn
        block = data[pos:pos + BUF_SIZE]
        pos += len(block)
        shm.poke(base + BUF_AT, block)
        cnt.value = len(block)
        ps.sem_post(rsem)  # give the reader a turn
        xfrs += 1
        if not block:  # EOF
            break
    ps.sem_wait(wsem)  # wait for the reader to finish
    return xfrs


def _reader(name):
    """The example's reader loop; returns (its transfer count, the bytes it took out of the buffer)."""
    base = _map(name)
    wsem, rsem = ps.slot_at(base, WSEM), ps.slot_at(base, RSEM)
    cnt = ctypes.c_int.from_address(base + CNT_AT)
    out, xfrs = bytearray(), 0
    while True:
        ps.sem_wait(rsem)  # wait for our turn
        if cnt.value == 0:  # the writer met EOF
            break
        out += shm.peek(base + BUF_AT, cnt.value)
        xfrs += 1
        ps.sem_post(wsem)  # give the writer a turn
    ps.sem_post(wsem)  # let the writer know we are finished
    return xfrs, bytes(out)


@pytest.mark.claim("psem.unnamed_shared")
def test_writer_reader_take_turns(ipc, spawn, observe):
    """Writer and reader processes alternate on wsem/rsem in the shm object; every byte arrives in order."""
    name = ipc.adopt_posix("shm", ipc.name())
    with precondition("make the example's shared memory object"):
        fd = shm.shm_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        shm.ftruncate(fd, SHMBUF_SIZE)
    with shm.Mapping(SHMBUF_SIZE, fd=fd) as area:
        os.close(fd)
        wsem, rsem = ps.slot_at(area.addr, WSEM), ps.slot_at(area.addr, RSEM)
        ps.sem_init(rsem, 1, 0)
        ps.sem_init(wsem, 1, 1)  # the writer gets the first turn
        reader = spawn(_reader, name, name="reader")
        writer = spawn(_writer, name, DATA, name="writer")
        xfrs_w = writer.value(timeout=10)
        xfrs_r, received = reader.value(timeout=10)
        left = ps.sem_getvalue(wsem), ps.sem_getvalue(rsem)
    observe("bytes sent", len(DATA))
    observe("writer transfers (EOF included)", xfrs_w)
    observe("reader transfers", xfrs_r)
    observe("bytes received intact", received == DATA)
    first_bad = next((i for i, (a, b) in enumerate(zip(received, DATA)) if a != b),
                     min(len(received), len(DATA)))
    assert received == DATA, (
        f"expected the reader to receive the writer's {len(DATA)} bytes intact through the "
        f"{BUF_SIZE}-byte buffer, it received {len(received)} bytes, first difference at {first_bad}")
    blocks = -(-len(DATA) // BUF_SIZE)
    assert (xfrs_w, xfrs_r, left) == (blocks + 1, blocks, (0, 0)), (
        f"expected {blocks} block turns each plus the writer's EOF turn and both semaphores back "
        f"at 0; writer {xfrs_w}, reader {xfrs_r}, (wsem, rsem) = {left}")
