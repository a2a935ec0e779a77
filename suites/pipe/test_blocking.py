"""pipe.eof: with every write end closed, read returns what is left, then 0 (end of file).
pipe.blocking.read: read on an empty pipe with a write end open sleeps in read().
pipe.blocking.write: write to a full pipe sleeps in write().
pipe.read.short: a read asking for more than the pipe holds returns what it holds."""
import pytest

from fixtures import libc
from fixtures.pipes import PIPE_SYSCALLS, close_all, fill, pipe_pair, queued, set_nonblocking

# How the last write end goes away.
WRITER_GONE = ["write end closed", "writer process exited"]


def _write_and_exit(read_end, write_end, data):
    close_all(read_end)
    libc.write(write_end, data)
    return len(data)  # exiting closes this process's write end


@pytest.mark.claim("pipe.eof")
@pytest.mark.parametrize("kind", PIPE_SYSCALLS)
@pytest.mark.parametrize("how", WRITER_GONE)
def test_remaining_data_then_eof(how, kind, spawn, observe):
    """After the last write end closes, read returns the bytes still queued, then 0 on every further read."""
    data = b"left in the pipe"
    with pipe_pair(kind) as p:
        if how == "writer process exited":
            writer = spawn(_write_and_exit, p.r, p.w, data, name="writer")
            p.close_write()
            assert writer.value(timeout=2) == len(data)
        else:
            libc.write(p.w, data)
            p.close_write()
        # Each read runs in a bounded child: a read that blocked instead of seeing EOF is a verdict.
        reads = [spawn.run(libc.read, p.r, 100, name="reader", timeout=2).unwrap() for _ in range(3)]
    observe("reads", [len(r) for r in reads])
    assert reads == [data, b"", b""], f"expected {data!r} then b'' (EOF) twice, read returned {reads}"


def _read_once(read_end, write_end, nbytes):
    close_all(write_end)  # the parent holds the only write end
    return libc.read(read_end, nbytes)


@pytest.mark.claim("pipe.blocking.read")
@pytest.mark.parametrize("kind", PIPE_SYSCALLS)
def test_read_of_empty_pipe_sleeps(kind, spawn, observe):
    """A reader of an empty pipe sleeps in read() while a write end is open, and returns what is written next."""
    with pipe_pair(kind) as p:
        reader = spawn(_read_once, p.r, p.w, 100, name="reader of an empty pipe")
        reader.wait_blocked("read", what="reader of an empty pipe")
        libc.write(p.w, b"wake")
        got = reader.value(timeout=2)
    observe("read after the write", got.decode())
    assert got == b"wake", f"expected the sleeping read to return b'wake', it returned {got!r}"


def _write_to_full(read_end, write_end, data):
    close_all(read_end)  # the parent holds the only read end
    return libc.write(write_end, data)


@pytest.mark.claim("pipe.blocking.write")
@pytest.mark.parametrize("kind", PIPE_SYSCALLS)
@pytest.mark.parametrize("size", [1, 4096], ids=["1 byte", "PIPE_BUF bytes"])
def test_write_to_full_pipe_sleeps(size, kind, spawn, observe):
    """A blocking writer of a full pipe sleeps in write() and finishes once the reader makes room."""
    with pipe_pair(kind) as p:
        set_nonblocking(p.w)
        held = fill(p.w)
        set_nonblocking(p.w, False)  # the same open file description: the child's write blocks again
        observe("bytes in the full pipe", held)
        writer = spawn(_write_to_full, p.r, p.w, b"z" * size, name="writer of a full pipe")
        p.close_write()
        writer.wait_blocked("write", what="writer of a full pipe")
        added = queued(p.r) - held
        assert added == 0, f"expected the sleeping writer to add nothing to the full pipe, {added} bytes went in"
        libc.read(p.r, held)
        written = writer.value(timeout=2)
    assert written == size, f"expected the write to finish with {size} once room was made, it returned {written}"


@pytest.mark.claim("pipe.read.short")
@pytest.mark.parametrize("kind", PIPE_SYSCALLS)
@pytest.mark.parametrize("available, asked", [(10, 100), (1, 65536), (5000, 8192)],
                         ids=["10 of 100", "1 of 65536", "5000 of 8192"])
def test_read_returns_what_is_available(available, asked, kind, spawn, observe):
    """read(n) on a pipe holding fewer than n bytes, with a writer still open, returns those bytes at once."""
    with pipe_pair(kind) as p:
        libc.write(p.w, b"s" * available)
        # In a child bounded by a timeout, so a read that waited for the rest is a verdict, not a
        # hang; the parent keeps its write end open the whole time.
        got = spawn.run(_read_once, p.r, p.w, asked, name="reader asking for more", timeout=2).unwrap()
    observe("returned", len(got))
    assert len(got) == available, f"expected read({asked}) to return the {available} bytes queued, got {len(got)}"
