"""pipe.sigpipe.default: a write to a pipe with no reader raises SIGPIPE, which kills a default-disposition writer.
pipe.sigpipe.epipe: with SIGPIPE ignored, or caught by a handler that returns, that write fails with EPIPE.
pipe.sigpipe.partial: a writer blocked in a 65537-byte write whose reader closes gets 65536 and SIGPIPE
from that same write (the note's strace: `write(4, ..., 65537) = 65536`, `+++ killed by SIGPIPE +++`)."""
import errno
import os
import signal

import pytest

from fixtures import libc
from fixtures.pipes import PIPE_SYSCALLS, capacity, close_all, pipe_pair, queued

SI_USER = 0  # <asm-generic/siginfo.h>: sent by kill() or, as here, by the kernel on the process's behalf

# How the last read end goes away before the write.
READER_GONE = ["read end closed", "reader process exited"]


def _write_one_byte(write_end):
    libc.write(write_end, b"x")
    return "write returned"


def _hold_read_end(read_end):
    return "reader exiting"  # exit closes the process's copy of the read end


def _without_reader(kind, how, spawn):
    """A pipe whose every read end is closed, made the way `how` says; returns it."""
    p = pipe_pair(kind)
    if how == "reader process exited":
        reader = spawn(_hold_read_end, p.r, name="reader")
        p.close_read()
        assert reader.value(timeout=2) == "reader exiting"
    else:
        p.close_read()
    return p


@pytest.mark.claim("pipe.sigpipe.default")
@pytest.mark.parametrize("kind", PIPE_SYSCALLS)
@pytest.mark.parametrize("how", READER_GONE)
def test_default_sigpipe_kills_writer(how, kind, spawn, observe):
    """A default-disposition process writing to a pipe without readers is killed by signal 13, SIGPIPE."""
    with _without_reader(kind, how, spawn) as p:
        result = spawn.run(_write_one_byte, p.w, name="writer without readers", timeout=2)
    observe("writer", str(result))
    observe("signal", result.signal)
    assert result.signal == signal.SIGPIPE == 13, (
        f"expected the writer killed by signal 13 (SIGPIPE), the writer {result}")


def _write_with_sigpipe(write_end, disposition):
    caught = []
    if disposition == "ignored":
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    elif disposition == "caught":
        signal.signal(signal.SIGPIPE, lambda signum, frame: caught.append(signum))
    elif disposition == "blocked":
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGPIPE])
    try:
        written = libc.write(write_end, b"x")
        err = None
    except OSError as exc:
        written, err = None, exc.errno
    pending = signal.SIGPIPE in signal.sigpending()
    return written, err, caught, pending


DISPOSITIONS = ["ignored", "caught", "blocked"]


@pytest.mark.claim("pipe.sigpipe.epipe")
@pytest.mark.parametrize("kind", PIPE_SYSCALLS)
@pytest.mark.parametrize("disposition", DISPOSITIONS)
def test_write_without_reader_fails_with_epipe(disposition, kind, spawn, observe):
    """With SIGPIPE ignored, caught (handler returns) or blocked, the write fails with EPIPE and the
    process lives; a handler sees SIGPIPE once, a blocked SIGPIPE stays pending."""
    with _without_reader(kind, "read end closed", spawn) as p:
        result = spawn.run(_write_with_sigpipe, p.w, disposition, name=f"writer with SIGPIPE {disposition}",
                           timeout=2)
    written, err, caught, pending = result.unwrap()
    observe("errno", libc.errno_name(err))
    assert (written, err) == (None, errno.EPIPE), (
        f"expected write to fail with EPIPE (SIGPIPE {disposition}), it returned {written} "
        f"with {libc.errno_name(err)}")
    if disposition == "caught":
        observe("handler calls", len(caught))
        assert caught == [signal.SIGPIPE], f"expected the handler to get SIGPIPE once, it got {caught}"
    if disposition == "blocked":
        observe("SIGPIPE pending", pending)
        assert pending, "expected the blocked SIGPIPE to be left pending by the write, none is"


def _blocked_big_write(read_end, write_end, nbytes, disposition, report):
    """Write nbytes (more than fit) once; report what write() returned and what SIGPIPE did."""
    close_all(read_end)  # the parent is the only reader
    caught = []
    if disposition == "caught":
        signal.signal(signal.SIGPIPE, lambda signum, frame: caught.append(signum))
    elif disposition == "blocked":
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGPIPE])
    written = libc.write(write_end, b"p" * nbytes)
    pending = signal.SIGPIPE in signal.sigpending()
    report.send({"write returned": written, "SIGPIPE pending": pending, "handler calls": len(caught)})
    if disposition == "blocked":
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGPIPE])  # the pending SIGPIPE kills us here
    return "survived"


@pytest.mark.claim("pipe.sigpipe.partial")
@pytest.mark.parametrize("kind", PIPE_SYSCALLS)
@pytest.mark.parametrize("disposition", ["default", "blocked", "caught"])
def test_reader_closes_under_blocked_writer(disposition, kind, spawn, channel, observe):
    """The write blocked after capacity bytes returns the partial count when the reader closes, and
    SIGPIPE is raised by that write: a default writer dies before write() returns to it, a blocked
    one finds SIGPIPE already pending and dies on unblocking, a caught one sees the handler run once."""
    report = channel()
    with pipe_pair(kind) as p:
        cap = capacity(p.w)
        writer = spawn(_blocked_big_write, p.r, p.w, cap + 1, disposition, report,
                       name=f"writer of {cap + 1} bytes (SIGPIPE {disposition})")
        p.close_write()
        writer.wait_blocked("write", what=f"writer of {cap + 1} bytes")
        held = queued(p.r)
        observe("bytes in the pipe while the writer sleeps", held)
        assert held == cap, f"expected {cap} bytes in the pipe before write() blocks, kernel took {held}"
        p.close_read()  # the last reader goes while the writer sleeps in write()
    result = writer.result(timeout=2)
    observe("writer", str(result))
    if disposition == "default":
        assert result.signal == signal.SIGPIPE and result.value is None, (
            f"expected the writer killed by SIGPIPE inside the interrupted write, before it returned "
            f"to the program; the writer {result}")
        return
    seen = report.recv(timeout=2, what="writer")
    observe("write returned", seen["write returned"])
    assert seen["write returned"] == cap, (
        f"expected write({cap + 1}) to return the partial count {cap} when the reader closed, "
        f"it returned {seen['write returned']}")
    if disposition == "blocked":
        observe("SIGPIPE pending after the write", seen["SIGPIPE pending"])
        assert seen["SIGPIPE pending"], "expected that write to have raised SIGPIPE (pending), none is pending"
        assert result.signal == signal.SIGPIPE, f"expected death by SIGPIPE on unblocking, the writer {result}"
    else:
        observe("handler calls", seen["handler calls"])
        assert seen["handler calls"] == 1 and result.value == "survived", (
            f"expected the SIGPIPE handler to run once for that write, it ran {seen['handler calls']} "
            f"times; the writer {result}")


def _blocked_big_write_siginfo(read_end, write_end, nbytes):
    close_all(read_end)
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGPIPE])
    written = libc.write(write_end, b"p" * nbytes)
    info = signal.sigtimedwait([signal.SIGPIPE], 0)  # the pending SIGPIPE, taken without waiting
    if info is None:
        return written, None, None, os.getpid()
    return written, info.si_code, info.si_pid, os.getpid()


@pytest.mark.claim("pipe.sigpipe.partial")
def test_sigpipe_siginfo_names_the_writer(spawn, observe):
    """The SIGPIPE raised by the interrupted write is sent by the kernel as SI_USER with the writer's own
    pid, as the note's strace line shows (`si_code=SI_USER, si_pid=<writer>`)."""
    with pipe_pair() as p:
        cap = capacity(p.w)
        writer = spawn(_blocked_big_write_siginfo, p.r, p.w, cap + 1, name=f"writer of {cap + 1} bytes")
        p.close_write()
        writer.wait_blocked("write", what=f"writer of {cap + 1} bytes")
        p.close_read()
    written, si_code, si_pid, pid = writer.value(timeout=2)
    observe("write returned", written)
    observe("si_code", {SI_USER: "SI_USER"}.get(si_code, si_code))
    observe("si_pid is the writer", si_pid == pid)
    assert (written, si_code, si_pid) == (cap, SI_USER, pid), (
        f"expected write() = {cap} and a SIGPIPE with si_code SI_USER from the writer itself (pid {pid}); "
        f"got write() = {written}, si_code {si_code}, si_pid {si_pid}")
