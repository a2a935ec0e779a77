"""pipe.capacity.default: a new pipe holds 65536 bytes (16 pages); F_GETPIPE_SZ returns 65536.
pipe.capacity.fill: with a reader that does not read, a 65536-byte write completes and a
65537-byte write puts 65536 bytes in the pipe, then sleeps in write()."""
import resource

import pytest

from fixtures import libc
from fixtures.ipc import run_token
from fixtures.pipes import (DEFAULT_PAGES, PIPE_SYSCALLS, capacity, close_all,
                            expected_capacities, fill, first_reduced_pipe, pipe_pair, queued,
                            reduced_pages, set_nonblocking)

def _measure_new_pipe():
    with pipe_pair() as p:
        size = capacity(p.w)
        set_nonblocking(p.w)
        return size, fill(p.w)


def fresh_uid(offset: int) -> int:
    """A uid of this run's own (it holds no pipes), different per purpose so that two tests on
    two workers never count against one another's pipe-user-pages-soft."""
    return 3_000_000 + int(run_token()[:4], 16) * 4 + offset


def uid_mapped(uid: int) -> bool:
    """True when `uid` exists in this user namespace (/proc/self/uid_map)."""
    with open("/proc/self/uid_map") as f:
        for line in f:
            inside, _, count = (int(x) for x in line.split())
            if inside <= uid < inside + count:
                return True
    return False


def require_fresh_uid(privilege, uid: int) -> None:
    privilege.require_switch()
    if not uid_mapped(uid):
        pytest.skip(f"needs uid {uid} in this user namespace (/proc/self/uid_map does not map it) "
                    "to measure a user that holds no pipes")


@pytest.mark.claim("pipe.capacity.default")
def test_new_pipe_capacity(kernel, privilege, observe):
    """A new pipe of this process reports and holds 16 pages (65536 bytes on 4 KiB pages), or the
    smaller size the kernel gives a user over pipe-user-pages-soft without the exemption."""
    size, held = _measure_new_pipe()
    allowed = expected_capacities(kernel, privilege.capabilities)
    observe("F_GETPIPE_SZ", size)
    observe("bytes held", held)
    assert size in allowed, (
        f"expected F_GETPIPE_SZ of a new pipe in {sorted(allowed)} on {kernel.release} "
        f"(page size {kernel.page_size}), kernel says {size}")
    assert held == size, f"expected an O_NONBLOCK writer to fit {size} bytes before EAGAIN, it fit {held}"


@pytest.mark.claim("pipe.capacity.default")
def test_fresh_unprivileged_user_gets_the_default(kernel, privilege, observe):
    """A user that holds no pipes and no capabilities gets exactly the default: 16 pages (capped at
    pipe-max-size since 4.18)."""
    uid = fresh_uid(1)
    require_fresh_uid(privilege, uid)
    size, held = privilege.run_as(_measure_new_pipe, uid=uid, gid=uid).unwrap()
    (want,) = expected_capacities(kernel, set(), fresh_user=True)
    observe("F_GETPIPE_SZ unprivileged", size)
    assert (size, held) == (want, want), (
        f"expected a fresh unprivileged user's new pipe to report and hold {want} bytes "
        f"({DEFAULT_PAGES} pages of {kernel.page_size}), kernel says {size}, holds {held}")


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
    pipes gets smaller new pipes: since 4.16 the (soft/16 + 1)-th default pipe has 2 pages (1
    before 5.14); 4.5-4.15 count the first reduced pipe as fixtures.pipes.first_reduced_pipe says."""
    soft = kernel.limit("fs/pipe-user-pages-soft") if kernel.at_least(4, 5) else 0
    if not soft:
        pytest.skip("needs fs.pipe-user-pages-soft (Linux >= 4.5, set above 0) to limit a user's pipes")
    # A uid of this run's own, so that no other process's pipes count against the limit
    # and no other test's pipes are shrunk by this one.
    uid = fresh_uid(2)
    require_fresh_uid(privilege, uid)
    (full,) = expected_capacities(kernel, set(), fresh_user=True)
    expected_count = first_reduced_pipe(kernel, soft)
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
@pytest.mark.parametrize("kind", PIPE_SYSCALLS)
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
@pytest.mark.parametrize("kind", PIPE_SYSCALLS)
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
