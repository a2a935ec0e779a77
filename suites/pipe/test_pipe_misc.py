"""pipe.shared_ends, pipe.no_seek, pipe.s_isfifo: a pipe shared after fork is one byte stream;
it cannot be seeked; fstat calls it a FIFO."""
import errno
import os
import socket
import stat

import pytest

from fixtures import libc
from fixtures.expect import fails_with
from fixtures.libc import lseek, pread, pwrite
from fixtures.pipes import PIPE_MAKER_IDS, PIPE_MAKERS, close_all, make, read_exactly


def _read_then_write(r, w, reply):
    """Keep both ends; wait for the parent's bytes, then answer on the same pipe."""
    got = libc.read(r, 64)
    libc.write(w, reply)
    return got


@pytest.mark.claim("pipe.shared_ends")
def test_each_reads_what_the_other_wrote(spawn, observe):
    """Parent and child both holding both ends: the child reads the parent's bytes, the parent the child's."""
    r, w = os.pipe()
    try:
        child = spawn(_read_then_write, r, w, b"from-child", name="child holding both ends")
        child.wait_blocked("read", what="child reading the shared pipe")
        libc.write(w, b"from-parent")
        child_got = child.value(5)
        parent_got = read_exactly(r, len(b"from-child"), what="child")
    finally:
        close_all(r, w)
    observe("shared_child_read", child_got.decode())
    observe("shared_parent_read", parent_got.decode())
    assert (child_got, parent_got) == (b"from-parent", b"from-child"), (
        f"expected the child to read 'from-parent' and the parent 'from-child', "
        f"they read {child_got!r} and {parent_got!r}")


@pytest.mark.claim("pipe.shared_ends")
def test_one_pipe_is_one_stream(spawn, observe):
    """When both write before either reads, whoever reads first gets both messages, its own included."""
    r, w = os.pipe()
    try:
        libc.write(w, b"parent;")
        spawn(libc.write, w, b"child;", name="child writing to the shared pipe").value(5)
        got = libc.read(r, 64)  # everything is in the pipe already: one read takes it all
    finally:
        close_all(r, w)
    observe("one_stream_parent_read", got.decode())
    assert got == b"parent;child;", (
        f"expected one byte stream holding 'parent;child;' for the parent to read, its own "
        f"message included, the parent read {got!r}")


def _answer_on_other_pipe(to_child_r, to_child_w, to_parent_r, to_parent_w):
    os.close(to_child_w)
    os.close(to_parent_r)
    libc.write(to_parent_w, b"child->parent")
    return read_exactly(to_child_r, len(b"parent->child"), what="parent")


@pytest.mark.claim("pipe.shared_ends")
def test_two_pipes_two_directions(spawn, observe):
    """With one pipe per direction both sides write first and each then reads only the other's message."""
    to_child_r, to_child_w = os.pipe()
    to_parent_r, to_parent_w = os.pipe()
    try:
        child = spawn(_answer_on_other_pipe, to_child_r, to_child_w, to_parent_r, to_parent_w,
                      name="child on two pipes")
        close_all(to_child_r, to_parent_w)
        libc.write(to_child_w, b"parent->child")
        parent_got = read_exactly(to_parent_r, len(b"child->parent"), what="child")
        child_got = child.value(5)
    finally:
        close_all(to_child_r, to_child_w, to_parent_r, to_parent_w)
    observe("two_pipes_parent_read", parent_got.decode())
    observe("two_pipes_child_read", child_got.decode())
    assert (parent_got, child_got) == (b"child->parent", b"parent->child"), (
        f"expected each side to read the other's message, parent read {parent_got!r}, "
        f"child read {child_got!r}")


SEEKS = [(0, os.SEEK_SET), (4, os.SEEK_SET), (0, os.SEEK_CUR), (4, os.SEEK_CUR),
         (0, os.SEEK_END), (-4, os.SEEK_END)]
WHENCE = {os.SEEK_SET: "SEEK_SET", os.SEEK_CUR: "SEEK_CUR", os.SEEK_END: "SEEK_END"}


@pytest.mark.claim("pipe.no_seek")
@pytest.mark.parametrize("way", PIPE_MAKER_IDS)
def test_lseek_pread_pwrite_espipe(observe, way):
    """lseek (any whence), pread and pwrite on either end of a pipe holding data fail with ESPIPE."""
    r, w = make(way)
    errors = {}
    try:
        libc.write(w, b"data")
        for end, fd in (("read", r), ("write", w)):
            for offset, whence in SEEKS:
                exc = fails_with(errno.ESPIPE, lseek, fd, offset, whence,
                                 what=f"lseek({end} end, {offset}, {WHENCE[whence]})")
                errors[f"lseek {end} {offset} {WHENCE[whence]}"] = libc.errno_name(exc.errno)
        exc = fails_with(errno.ESPIPE, pread, r, 4, 0, what="pread(read end, 4, 0)")
        errors["pread"] = libc.errno_name(exc.errno)
        exc = fails_with(errno.ESPIPE, pwrite, w, b"more", 0, what="pwrite(write end, 4, 0)")
        errors["pwrite"] = libc.errno_name(exc.errno)
        left = libc.read(r, 64)
    finally:
        close_all(r, w)
    observe("errno", sorted(set(errors.values())))
    assert left == b"data", f"the refused seeks must leave the stream alone, read back {left!r}"


def _proc_reopen():
    """The same pipe through a new open file description, opened by /proc/self/fd."""
    r, w = os.pipe()
    try:
        return (os.open(f"/proc/self/fd/{r}", os.O_RDONLY | os.O_NONBLOCK),
                os.open(f"/proc/self/fd/{w}", os.O_WRONLY))
    finally:
        close_all(r, w)


FIFO_KINDS = PIPE_MAKERS + [("proc-fd-reopen", _proc_reopen)]


@pytest.mark.claim("pipe.s_isfifo")
@pytest.mark.parametrize("way", [k for k, _ in FIFO_KINDS])
def test_both_ends_are_s_isfifo(observe, way):
    """fstat of each end of a pipe has S_IFIFO as its file type."""
    r, w = make(way, FIFO_KINDS)
    try:
        modes = {"read": os.fstat(r).st_mode, "write": os.fstat(w).st_mode}
    finally:
        close_all(r, w)
    types = {end: oct(stat.S_IFMT(m)) for end, m in modes.items()}
    observe("st_mode", {end: oct(m) for end, m in modes.items()})
    assert all(stat.S_ISFIFO(m) for m in modes.values()), (
        f"expected S_ISFIFO ({oct(stat.S_IFIFO)}) on both ends, fstat gave file types {types}")


@pytest.mark.claim("pipe.s_isfifo")
def test_fifo_is_and_socketpair_is_not(ipc, observe):
    """S_ISFIFO tells pipes and FIFOs apart from other descriptors: a FIFO is one, a socketpair end is not."""
    path = ipc.fifo()
    fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)  # Linux opens a FIFO read-write without waiting
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        fifo_mode, path_mode = os.fstat(fd).st_mode, os.stat(path).st_mode
        sock_mode = os.fstat(a.fileno()).st_mode
    finally:
        os.close(fd)
        a.close()
        b.close()
    observe("st_mode", {"fifo": oct(fifo_mode), "fifo_path": oct(path_mode),
                        "socketpair": oct(sock_mode)})
    assert stat.S_ISFIFO(fifo_mode) and stat.S_ISFIFO(path_mode), (
        f"expected a FIFO to be S_ISFIFO, fstat/stat gave {oct(fifo_mode)}/{oct(path_mode)}")
    assert not stat.S_ISFIFO(sock_mode) and stat.S_ISSOCK(sock_mode), (
        f"expected a socketpair end to be S_ISSOCK and not S_ISFIFO, fstat gave {oct(sock_mode)}")
