"""pipe.ends: fd[0] reads, fd[1] writes, bytes come out in order, the wrong end gives EBADF.
pipe.pipe_buf: PIPE_BUF is 4096 on Linux (POSIX: at least 512), and the kernel's atomicity bound is there.
pipe.ulimit_p: bash's `ulimit -p` is 8 blocks of 512 bytes = PIPE_BUF, not the capacity."""
import ctypes
import errno
import fcntl
import os
import resource
import shutil
import subprocess

import pytest

from fixtures import libc
from fixtures.expect import fails_with, succeeds
from fixtures.pipes import (PIPE_BUF, PIPE_SYSCALLS, POSIX_PIPE_BUF, capacity, pipe_pair, queued,
                            set_nonblocking)

_PC_PIPE_BUF = os.pathconf_names["PC_PIPE_BUF"]
_fpathconf = libc._fn("fpathconf", ctypes.c_long, ctypes.c_int, ctypes.c_int)


def _access_mode(fd):
    mode = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
    return {os.O_RDONLY: "O_RDONLY", os.O_WRONLY: "O_WRONLY", os.O_RDWR: "O_RDWR"}.get(mode, mode)


@pytest.mark.claim("pipe.ends")
@pytest.mark.parametrize("kind", PIPE_SYSCALLS)
def test_read_end_and_write_end(kind, observe):
    """fd[0] is opened O_RDONLY and fd[1] O_WRONLY, and what fd[1] takes fd[0] gives back in order."""
    with pipe_pair(kind) as p:
        modes = {"fd[0]": _access_mode(p.r), "fd[1]": _access_mode(p.w)}
        observe("access modes", modes)
        assert modes == {"fd[0]": "O_RDONLY", "fd[1]": "O_WRONLY"}, (
            f"expected fd[0] O_RDONLY and fd[1] O_WRONLY, the kernel opened them with {modes}")
        chunks = [b"first ", b"second ", b"third"]
        for chunk in chunks:
            libc.write(p.w, chunk)
        got = libc.read(p.r, 100)
        assert got == b"".join(chunks), f"expected {b''.join(chunks)!r} from fd[0], read {got!r}"


@pytest.mark.claim("pipe.ends")
@pytest.mark.parametrize("kind", PIPE_SYSCALLS)
def test_wrong_end_is_ebadf(kind, observe):
    """write(fd[0]) and read(fd[1]) fail with EBADF and move no data."""
    with pipe_pair(kind) as p:
        on_read_end = fails_with(errno.EBADF, libc.write, p.r, b"x", what="write to fd[0] (the read end)")
        libc.write(p.w, b"y")
        on_write_end = fails_with(errno.EBADF, libc.read, p.w, 1, what="read from fd[1] (the write end)")
        observe("write(fd[0])", libc.errno_name(on_read_end.errno))
        observe("read(fd[1])", libc.errno_name(on_write_end.errno))
        assert queued(p.r) == 1, f"expected the byte written to fd[1] still queued, FIONREAD says {queued(p.r)}"


@pytest.mark.claim("pipe.pipe_buf")
@pytest.mark.parametrize("end", ["fd[0]", "fd[1]"])
def test_fpathconf_pipe_buf(end, observe):
    """fpathconf(fd, _PC_PIPE_BUF) on either end of a pipe is 4096, above POSIX's 512."""
    with pipe_pair() as p:
        ctypes.set_errno(0)
        value = _fpathconf(p.r if end == "fd[0]" else p.w, _PC_PIPE_BUF)
        err = ctypes.get_errno()
    observe("_PC_PIPE_BUF", value)
    assert value != -1, f"fpathconf(_PC_PIPE_BUF) failed: {libc.errno_name(err)}"
    assert value >= POSIX_PIPE_BUF, f"expected PIPE_BUF >= {POSIX_PIPE_BUF} (POSIX), got {value}"
    assert value == PIPE_BUF, f"expected PIPE_BUF {PIPE_BUF} on Linux, fpathconf says {value}"


@pytest.mark.claim("pipe.pipe_buf")
def test_kernel_atomicity_bound_is_pipe_buf(kernel, observe):
    """Into an O_NONBLOCK pipe with 100 bytes free in its last page and no free slot, a PIPE_BUF-byte
    write is refused whole (EAGAIN) while a larger one is accepted in part (PIPE_BUF+1 bytes on
    4 KiB pages; with larger pages, one whose tail past whole pages fits the 100 bytes)."""
    with pipe_pair() as p:
        set_nonblocking(p.w)
        cap = capacity(p.w)
        libc.write(p.w, b"a" * (cap - 100))  # every slot used, the last one 100 bytes short of a page
        whole = fails_with(errno.EAGAIN, libc.write, p.w, b"b" * PIPE_BUF,
                           what=f"O_NONBLOCK write of PIPE_BUF={PIPE_BUF} bytes with 100 bytes free")
        observe("write(PIPE_BUF)", libc.errno_name(whole.errno))
        assert queued(p.r) == cap - 100, (
            f"expected nothing of the refused PIPE_BUF write queued, {queued(p.r) - (cap - 100)} bytes went in")
        # Over PIPE_BUF the kernel first tops up the last page with the n % PAGE_SIZE bytes that
        # fit: PIPE_BUF+1 leaves a 1-byte tail on 4 KiB pages, page+100 a 100-byte one on any.
        n = PIPE_BUF + 1 if (PIPE_BUF + 1) % kernel.page_size <= 100 else kernel.page_size + 100
        split = succeeds(libc.write, p.w, b"c" * n, what=f"O_NONBLOCK write of {n} > PIPE_BUF bytes")
        observe("write(> PIPE_BUF)", split)
        assert 0 < split < n, (
            f"expected a write of {n} > PIPE_BUF bytes to be split (a partial count), it returned {split}")


def _shell_ulimit_p(shell):
    done = subprocess.run([shell, "-c", "ulimit -p"], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=5)
    return done.returncode, done.stdout.strip(), done.stderr.strip()


@pytest.mark.claim("pipe.ulimit_p")
def test_bash_ulimit_p_is_pipe_buf(spawn, observe):
    """bash's `ulimit -p` prints 8: 8 x 512 bytes is PIPE_BUF (4096), not the 65536-byte capacity."""
    bash = shutil.which("bash") or next((p for p in ("/bin/bash", "/usr/bin/bash") if os.path.exists(p)), None)
    if bash is None:
        pytest.skip("needs bash: `ulimit -p` as the pipe size is bash's (dash/ash read -p as the process "
                    "limit); install bash to check it")
    code, out, err = spawn.run(_shell_ulimit_p, bash, name="bash -c 'ulimit -p'").unwrap()
    assert code == 0 and out.isdigit(), f"bash -c 'ulimit -p' failed: exit {code}, {out!r} {err!r}"
    observe("bash ulimit -p", int(out))
    sh = os.path.realpath("/bin/sh")
    if os.path.exists(sh) and os.path.basename(sh) != "bash":
        # What the note's `ulimit -p` means depends on the shell: record /bin/sh's answer beside bash's
        # (dash's -p is RLIMIT_NPROC).
        observe("/bin/sh", os.path.basename(sh))
        sh_says = spawn.run(_shell_ulimit_p, "/bin/sh", name="sh -c 'ulimit -p'").unwrap()[1]
        # Said as what it is, so that hosts with other process limits compare equal.
        nproc = resource.getrlimit(resource.RLIMIT_NPROC)[0]
        limit = "unlimited" if nproc == resource.RLIM_INFINITY else str(nproc)
        observe("/bin/sh ulimit -p", "RLIMIT_NPROC" if sh_says == limit else sh_says)
    with pipe_pair() as p:
        cap = capacity(p.w)
    observe("blocks x 512", int(out) * 512)
    assert int(out) * 512 == PIPE_BUF, (
        f"expected `ulimit -p` x 512 = PIPE_BUF {PIPE_BUF} (capacity is {cap}), bash says {out} blocks")
