"""fifo.cp_blocks: GNU cp of a FIFO as a file sleeps in open() until a writer comes; cp -a / cp -r recreate the FIFO."""
import os
import shutil
import stat
import subprocess

import pytest

from fixtures.pipes import open_bounded


def _exec(argv):
    # The child becomes cp itself, so its pid is the process to watch and its group dies at teardown.
    os.execvp(argv[0], argv)


def _version_line(cp):
    done = subprocess.run([cp, "--version"], capture_output=True, text=True, timeout=5)
    return (done.stdout.splitlines() or [done.stderr.strip() or "no version output"])[0]


@pytest.fixture
def gnu_cp(spawn, observe):
    """The path of GNU cp, its version line observed; skips when cp is absent or another implementation."""
    cp = shutil.which("cp")
    if cp is None:
        pytest.skip("needs cp(1) on PATH (GNU coreutils); none found")
    line = spawn.run(_version_line, cp, timeout=5, name="cp --version").unwrap()
    observe("cp_version", line)
    if "GNU coreutils" not in line:
        pytest.skip(f"the claim is about GNU coreutils cp; {cp} is {line!r} "
                    "(busybox and BSD cp treat FIFOs differently)")
    return cp


@pytest.mark.claim("fifo.cp_blocks")
def test_cp_reads_fifo_as_file(gnu_cp, ipc, spawn, observe):
    """`cp fifo dest` sleeps in open() of the FIFO; once a writer sends data and closes, dest is a regular file holding it."""
    src, dest = ipc.fifo(), ipc.path("copy")
    cp = spawn(_exec, [gnu_cp, src, dest], name="cp fifo dest")
    cp.wait_blocked("open", what="cp opening the FIFO to read it")
    observe("cp_blocked_in", "open")
    data = b"what cp found in the FIFO\n"
    wfd = open_bounded(src, os.O_WRONLY, what="cp")  # cp is there as the reader: no wait
    try:
        os.write(wfd, data)
    finally:
        os.close(wfd)
    ended = cp.result(timeout=5)
    assert ended.exitcode == 0, f"expected cp to exit 0 after the writer closed, it {ended}"
    st = os.lstat(dest)
    with open(dest, "rb") as f:
        copied = f.read()
    observe("dest_type", "regular" if stat.S_ISREG(st.st_mode) else oct(stat.S_IFMT(st.st_mode)))
    assert stat.S_ISREG(st.st_mode) and copied == data, (
        f"expected a regular file holding {data!r}, cp made type {oct(stat.S_IFMT(st.st_mode))} with {copied!r}")


@pytest.mark.claim("fifo.cp_blocks")
@pytest.mark.parametrize("flag", ["-a", "-r"])
def test_cp_recursive_recreates_fifo(flag, gnu_cp, ipc, spawn, observe):
    """`cp -a` and `cp -r` make a new FIFO at dest without opening the source (they do not block)."""
    src, dest = ipc.fifo(), ipc.path("copy")
    # Bounded: had cp opened the FIFO to read it, it would still be asleep in open().
    ended = spawn.run(_exec, [gnu_cp, flag, src, dest], timeout=5, name=f"cp {flag} fifo dest")
    assert ended.exitcode == 0, f"expected cp {flag} to exit 0, it {ended}"
    mode = os.lstat(dest).st_mode
    observe("dest_type", "fifo" if stat.S_ISFIFO(mode) else oct(stat.S_IFMT(mode)))
    assert stat.S_ISFIFO(mode), f"expected cp {flag} to recreate a FIFO, dest has type {oct(stat.S_IFMT(mode))}"
