"""fifo.unrelated: processes that share no descriptor communicate through a FIFO found by name."""
import os

import pytest

from fifo_helpers import STEP_BOUND
from fixtures import libc


def _open_by_name(where, flags, message=None):
    # The FIFO did not exist when this process was forked: the name is all it gets.
    path = where.recv(timeout=STEP_BOUND, what="the FIFO's name")
    fd = os.open(path, flags)
    try:
        if message is not None:
            return libc.write(fd, message)
        return libc.read(fd, 256)
    finally:
        os.close(fd)


@pytest.mark.claim("fifo.unrelated")
def test_strangers_meet_by_name(ipc, spawn, channel, observe):
    """Two children forked before the FIFO existed exchange a message after learning only its path."""
    to_reader, to_writer = channel(), channel()
    message = b"found you by name"
    reader = spawn(_open_by_name, to_reader, os.O_RDONLY, name="reader")
    writer = spawn(_open_by_name, to_writer, os.O_WRONLY, message, name="writer")
    path = ipc.fifo()
    to_reader.send(path)
    to_writer.send(path)
    written = writer.value(timeout=2)
    got = reader.value(timeout=2)
    observe("bytes", written)
    assert got == message, f"expected the reader to receive {message!r} through {path}, it read {got!r}"
