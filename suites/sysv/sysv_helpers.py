"""What the System V tests share beyond fixtures.sysv: get/make by kind, the ipcs/ipcrm
tools and the parsing of `ipcs -l`.

The module name is unique because test directories are imported without packages.
"""
from __future__ import annotations

import os
import subprocess

from fixtures import libc as lc

JOURNAL_KIND = {"msg": "sysv_msg", "sem": "sysv_sem", "shm": "sysv_shm"}


def get(kind: str, key: int, flags: int, size: int = 4096, nsems: int = 1) -> int:
    """msgget/semget/shmget with the libc wrappers (OSError with the real errno)."""
    if kind == "msg":
        return lc.msgget(key, flags)
    if kind == "sem":
        return lc.semget(key, nsems, flags)
    return lc.shmget(key, size, flags)


def make(ipc, kind: str, key: int | None = None, mode: int = 0o600) -> int:
    """A new object of `kind` through the ipc fixture (removed at teardown)."""
    return {"msg": ipc.msgq, "sem": ipc.sem, "shm": ipc.shm}[kind](key=key, mode=mode)


def run_tool(argv: list[str]) -> tuple[int, str, str]:
    """Run a command-line tool and collect (status, stdout, stderr); call it inside a spawn child
    so the tool is a grandchild in that child's process group."""
    env = dict(os.environ, LC_ALL="C")  # the labels parse_ipcs_limits reads are the C locale's
    done = subprocess.run(argv, capture_output=True, text=True, timeout=10, env=env)
    return done.returncode, done.stdout, done.stderr


IPCS_LABELS = {
    "max queues system wide": "msgmni",
    "max size of message (bytes)": "msgmax",
    "default max size of queue (bytes)": "msgmnb",
    "max number of segments": "shmmni",
    "max seg size (kbytes)": "shmmax_kb",
    "max total shared memory (kbytes)": "shmall_kb",
    "min seg size (bytes)": "shmmin",
    "max number of arrays": "semmni",
    "max semaphores per array": "semmsl",
    "max semaphores system wide": "semmns",
    "max ops per semop call": "semopm",
    "semaphore max value": "semvmx",
}


def parse_ipcs_limits(text: str) -> dict[str, int]:
    """util-linux `ipcs -l` output (C locale labels) -> {limit name: value}."""
    out = {}
    for line in text.splitlines():
        label, sep, value = line.partition("=")
        name = IPCS_LABELS.get(label.strip())
        if sep and name and value.strip().isdigit():
            out[name] = int(value.strip())
    return out
