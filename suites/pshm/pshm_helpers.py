"""What the POSIX shared memory tests share: a new object under a name of the run's."""
from __future__ import annotations

import os

from fixtures import shared_memory as shm

CREATE = os.O_CREAT | os.O_EXCL | os.O_RDWR


def new_object(ipc, size: int = 0) -> tuple[str, int]:
    """shm_open(O_CREAT|O_EXCL|O_RDWR, 0600) under a new name (the ipc fixture removes it), set to
    `size` bytes when size > 0; (name, fd)."""
    name = ipc.adopt_posix("shm", ipc.name())
    fd = shm.shm_open(name, CREATE, 0o600)
    if size:
        shm.ftruncate(fd, size)
    return name, fd


def dev_shm_path(name: str) -> str:
    """Where glibc and musl keep the object '/NAME': /dev/shm/NAME."""
    return "/dev/shm/" + name.lstrip("/")
