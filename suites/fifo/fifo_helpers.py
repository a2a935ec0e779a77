"""What the FIFO tests share: the ways to make a FIFO and a child that opens one (what a FIFO
holds and reading to EOF: fixtures.pipes).

Kept in the fifo suite (not fixtures/). The module name is unique on purpose:
test directories are rootdir-relative imports without packages, so a generic
"_helpers" would collide with another suite's.
"""
from __future__ import annotations

import fcntl
import os
import stat


# Every way the notes make a FIFO; the open/IO tests run once per way.
MAKERS = ["mkfifo", "mknod"]

# How long a child waits for the parent's next step; teardown kills it anyway.
STEP_BOUND = 5.0


def make_fifo(ipc, how: str, mode: int = 0o600) -> str:
    """A new FIFO in the test's own directory, made by mkfifo(3) or mknod(2) with S_IFIFO."""
    if how == "mkfifo":
        return ipc.fifo(mode)
    path = ipc.path("fifo")
    os.mknod(path, stat.S_IFIFO | mode)
    return path


def open_and_report(path: str, flags: int, report=None):
    """Child body: open(path, flags) (it may sleep there), say so, and return what it opened."""
    fd = os.open(path, flags)
    if report is not None:
        report.send("opened")
    return {"fd_flags": fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE, "pid": os.getpid()}
