"""pipe.capacity.default: a new pipe holds 65536 bytes (16 pages); F_GETPIPE_SZ returns 65536.
pipe.capacity.fill: with a reader that does not read, a 65536-byte write completes and a
65537-byte write puts 65536 bytes in the pipe, then sleeps in write()."""
import resource

import pytest

from fixtures import libc
from fixtures.ipc import run_token
from fixtures.pipes import capacity, close_all, fill, queued
from _pipes import PIPE_KINDS, pipe_pair, set_nonblocking

DEFAULT_PAGES = 16  # PIPE_DEF_BUFFERS


def reduced_pages(kernel):
    """Page counts a pipe made by a user over pipe-user-pages-soft may get (PIPE_MIN_DEF_BUFFERS): 2 since
    5.14, 1 before, though stable series may carry the 2-page change back (it was sent to stable)."""
    return {2} if kernel.at_least(5, 14) else {1, 2}


def expected_capacities(kernel, exempt):
    """The capacities this kernel may give a new pipe of a process that is (or is not) exempt
    from the per-user soft limit; more than one only when the user's usage decides."""
    if not kernel.at_least(2, 6, 11):
        return {kernel.page_size}
    full = DEFAULT_PAGES * kernel.page_size
    max_size = kernel.limit("fs/pipe-max-size")
    if kernel.at_least(4, 5) and not exempt and max_size < full:
        full = max(max_size, kernel.page_size)  # alloc_pipe_info caps the default at pipe-max-size
    soft = int(kernel.sysctl("fs/pipe-user-pages-soft") or 0)
    if kernel.at_least(4, 5) and soft and not exempt:
        return {full} | {pages * kernel.page_size for pages in reduced_pages(kernel)}
    return {full}


def _measure_new_pipe():
    with pipe_pair() as p:
        size = capacity(p.w)
        set_nonblocking(p.w)
        return size, fill(p.w)


@pytest.mark.claim("pipe.capacity.default")
@pytest.mark.parametrize("who", ["this process", "unprivileged user"])
def test_new_pipe_capacity(who, kernel, privilege, observe):
    """A new pipe reports and holds 16 pages (65536 bytes on 4 KiB pages), or the smaller size the
    kernel gives an unprivileged user over pipe-user-pages-soft."""
    if who == "this process":
        exempt = privilege.has("CAP_SYS_RESOURCE") or privilege.has("CAP_SYS_ADMIN")
        size, held = _measure_new_pipe()
    else:
        exempt = False
        size, held = privilege.unprivileged(_measure_new_pipe).unwrap()
    allowed = expected_capacities(kernel, exempt)
    observe("F_GETPIPE_SZ", size)
    observe("bytes held", held)
    observe("exempt from pipe-user-pages-soft", exempt)
    assert size in allowed, (
        f"expected F_GETPIPE_SZ of a new pipe in {sorted(allowed)} on {kernel.release} "
        f"({'exempt from' if exempt else 'subject to'} pipe-user-pages-soft), kernel says {size}")
    assert held == size, f"expected an O_NONBLOCK writer to fit {size} bytes before EAGAIN, it fit {held}"


def _pipes_until_reduced(nofile_needed, full):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < nofile_needed:
        return None
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, nofile_needed), hard))
    pipes = []
    try:
        while len(pipes) * 2 < nofile_needed - 16:
            p = pipe_pair()
            pipes.append(p)
            size = capacity(p.w)
            if size < full:
                return len(pipes), size
        return len(pipes), None
    finally:
        for p in pipes:
            p.close()


@pytest.mark.claim("pipe.capacity.default")
def test_soft_limit_shrinks_new_pipes(kernel, privilege, observe):
    """A user that lacks CAP_SYS_RESOURCE/CAP_SYS_ADMIN and already holds pipe-user-pages-soft pages of
    pipes gets smaller new pipes: the (soft/16 + 1)-th default pipe has 2 pages (1 before 5.14)."""
    soft = int(kernel.sysctl("fs/pipe-user-pages-soft") or 0)
    if not kernel.at_least(4, 5) or not soft:
        pytest.skip("needs fs.pipe-user-pages-soft (Linux >= 4.5, set above 0) to limit a user's pipes")
    if not (privilege.has("CAP_SETUID") and privilege.has("CAP_SETGID")):
        pytest.skip("needs CAP_SETUID and CAP_SETGID (run as root) to fill pipe-user-pages-soft as a uid of "
                    "the test's own: doing it as this user would shrink the pipes of its other tests")
    full = DEFAULT_PAGES * kernel.page_size
    expected_count = soft // DEFAULT_PAGES + 1
    # A uid of this run's own, so that no other process's pipes count against the limit
    # and no other test's pipes are shrunk by this one.
    uid = 3_000_000 + int(run_token()[:4], 16)
    outcome = privilege.run_as(_pipes_until_reduced, 2 * expected_count + 64, full,
                               uid=uid, gid=uid, timeout=10).unwrap()
    if outcome is None:
        pytest.skip(f"needs RLIMIT_NOFILE >= {2 * expected_count + 64} to hold {expected_count} pipes "
                    f"(the hard limit is lower; raise it to check pipe-user-pages-soft)")
    count, size = outcome
    observe("pipe-user-pages-soft", soft)
    observe("first reduced pipe", count)
    observe("reduced F_GETPIPE_SZ", size)
    assert size is not None, (
        f"expected pipe {expected_count} to be smaller than {full}, {count} pipes all had {full}")
    reduced = sorted(pages * kernel.page_size for pages in reduced_pages(kernel))
    assert count == expected_count and size in reduced, (
        f"expected pipe {expected_count} of a uid over pipe-user-pages-soft={soft} to get "
        f"{' or '.join(map(str, reduced))} bytes, pipe {count} got {size}")


def _write_once(read_end, write_end, nbytes):
    close_all(read_end)  # the parent is the only reader
    return libc.write(write_end, b"w" * nbytes)


@pytest.mark.claim("pipe.capacity.fill")
@pytest.mark.parametrize("kind", PIPE_KINDS)
def test_capacity_write_completes(kind, spawn, observe):
    """A blocking write of exactly the capacity into an empty pipe whose reader does not read returns at once."""
    with pipe_pair(kind) as p:
        cap = capacity(p.w)
        writer = spawn(_write_once, p.r, p.w, cap, name=f"writer of {cap} bytes")
        p.close_write()
        written = writer.value(timeout=2)
        observe("write(capacity)", written)
        assert written == cap, f"expected write({cap}) to return {cap}, it returned {written}"
        assert queued(p.r) == cap, f"expected {cap} bytes queued, FIONREAD says {queued(p.r)}"


@pytest.mark.claim("pipe.capacity.fill")
@pytest.mark.parametrize("kind", PIPE_KINDS)
def test_one_byte_more_blocks_after_capacity(kind, spawn, observe):
    """A blocking write of capacity+1 bytes puts capacity bytes in the pipe and sleeps in write(),
    alive (no SIGPIPE: the reader is open), and completes once the reader drains."""
    with pipe_pair(kind) as p:
        cap = capacity(p.w)
        writer = spawn(_write_once, p.r, p.w, cap + 1, name=f"writer of {cap + 1} bytes")
        p.close_write()
        writer.wait_blocked("write", what=f"writer of {cap + 1} bytes")
        held = queued(p.r)
        observe("capacity", cap)
        observe("bytes in the pipe while the writer sleeps", held)
        assert held == cap, f"expected {cap} bytes in the pipe before write() blocks, kernel took {held}"
        drained = len(libc.read(p.r, cap))
        written = writer.value(timeout=2)  # the drain made room: the write finishes
        rest = libc.read(p.r, cap)
        observe("write(capacity+1)", written)
        assert (drained + len(rest), written) == (cap + 1, cap + 1), (
            f"expected the blocked write to finish with {cap + 1} after the drain, it returned {written} "
            f"and the reader got {drained + len(rest)} bytes")
