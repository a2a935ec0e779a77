"""The half of ``./ipcc sandbox`` that runs inside the sandbox (started by runsc.py, not by hand).

    python -m tools.sandbox.inside [PYTEST-ARGS ...]

It runs the suite with the record in a scratch directory of the sandbox and the
console on stderr, then writes that directory to stdout as an uncompressed tar
stream, with ``sandbox-status.json`` beside the record: pytest's exit status or
the signal that killed it, and the test that was running last.  The sandbox's
file system is an overlay discarded at exit, so stdout is the only way out;
nothing else may write to it: pytest and everything it starts get stderr as
their stdout.

Loaded as a pytest plugin (``-p tools.sandbox.inside``) the module writes each
test's node id to ``$IPCC_SANDBOX_LAST_TEST`` when it starts and when it ends,
so that a crash of the whole process can still be blamed on a test.
"""

from __future__ import annotations

import json
import os
import platform
import select
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

STATUS_NAME = "sandbox-status.json"
LAST_TEST_ENV = "IPCC_SANDBOX_LAST_TEST"
LAST_TEST_NAME = "last-test"


# --------------------------------------------------------------------------
# pytest plugin: the test that was running when the process died
# --------------------------------------------------------------------------

def _note(state: str, nodeid: str) -> None:
    path = os.environ.get(LAST_TEST_ENV)
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(f"{state} {nodeid}\n")


def pytest_runtest_logstart(nodeid, location):
    _note("started", nodeid)


def pytest_runtest_logfinish(nodeid, location):
    _note("finished", nodeid)


def read_last_test(path: str) -> tuple[str | None, bool]:
    """(node id, whether it finished) from the plugin's file; (None, False) if none."""
    try:
        with open(path, encoding="utf-8") as fh:
            state, _, nodeid = fh.read().strip().partition(" ")
    except OSError:
        return None, False
    return (nodeid or None), state == "finished"


# --------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------

def suite_command(outdir: str, pytest_args: list[str]) -> list[str]:
    return [sys.executable, "-m", "pytest", "-p", "tools.sandbox.inside", *pytest_args,
            f"--record={os.path.join(outdir, 'record.json')}"]


def status_of(returncode: int, last_test: str | None, finished: bool, elapsed: float) -> dict:
    killed_by = signal.Signals(-returncode).name if returncode < 0 else None
    return {
        "pytest_exit": None if killed_by else returncode,
        "signal": killed_by,
        "last_test": last_test,
        "last_test_finished": finished,
        "elapsed_s": round(elapsed, 1),
        "kernel_release": platform.release(),
    }


CHUNK = 1 << 16


def write_all(fd: int, data: bytes) -> None:
    """Write every byte, 64 KiB at a time, resuming after short writes and EAGAIN.

    gVisor's write(2) to the host pipe behind stdout returns after 64 KiB even on a
    blocking descriptor (Linux blocks until all is written), and a single large write
    through Python's buffered stdout lost everything past the first 64 KiB."""
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view[:CHUNK]):]
        except BlockingIOError:
            select.select([], [fd], [])


def stream_tar(outdir: str, fd: int) -> None:
    """The directory as an uncompressed tar on fd."""
    with tempfile.TemporaryFile() as tmp:
        with tarfile.open(fileobj=tmp, mode="w") as tar:
            for name in sorted(os.listdir(outdir)):
                tar.add(os.path.join(outdir, name), arcname=name)
        tmp.seek(0)
        while True:
            block = tmp.read(CHUNK * 16)
            if not block:
                break
            write_all(fd, block)


def main(argv: list[str] | None = None) -> int:
    pytest_args = list(sys.argv[1:] if argv is None else argv)
    outdir = tempfile.mkdtemp(prefix="ipcc-sandbox-")
    last = os.path.join(outdir, LAST_TEST_NAME)
    env = dict(os.environ, **{LAST_TEST_ENV: last})
    start = time.monotonic()
    done = subprocess.run(suite_command(outdir, pytest_args), stdin=subprocess.DEVNULL,
                          stdout=sys.stderr.fileno(), env=env)
    nodeid, finished = read_last_test(last)
    status = status_of(done.returncode, nodeid, finished, time.monotonic() - start)
    with open(os.path.join(outdir, STATUS_NAME), "w", encoding="utf-8") as fh:
        json.dump(status, fh, indent=1)
    stream_tar(outdir, sys.stdout.fileno())
    shutil.rmtree(outdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
