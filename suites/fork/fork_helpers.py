"""The IPC objects of the fork suite, each made in the test process, used in a forked child
through what it inherited, and looked for in a process before and after it execs (look()).

make(ipc) returns None, or why the object could not be made here (the facility is absent, or
the kernel refused the maker: that case is not run). Each object closes what it opened.
"""
from __future__ import annotations

import ctypes
import errno
import os

from fixtures import facility, mqueue, posix_sem, sysv
from fixtures import shared_memory as shm
from fixtures import pipes
from fixtures.kernel import sysvipc_absent_reason
from fixtures.verdict import NOT_RUN, describe_oserror

MESSAGE = b"from child"


class Inherited:
    kind = ""
    maker = ""

    def make(self, ipc) -> str | None:
        absent = self.absent_reason(ipc)
        if absent:
            return absent
        try:
            self._make(ipc)
        except OSError as exc:
            return f"{NOT_RUN}{self.maker} refused: {describe_oserror(exc)}"
        return None

    def absent_reason(self, ipc) -> str | None:
        return None

    def _make(self, ipc) -> None:
        raise NotImplementedError

    def use(self):
        """In the child: use the inherited object without opening anything; what it saw."""
        raise NotImplementedError

    def received(self, used) -> object:
        """In the parent after the child used it: what arrived (MESSAGE, or a count)."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class PipeEnds(Inherited):
    kind, maker = "pipe", "pipe(2)"

    def _make(self, ipc):
        self.r, self.w = pipes.pipe()  # pipe(2) itself: no FD_CLOEXEC

    def use(self):
        return pipes.lc.write(self.w, MESSAGE)

    def received(self, used):
        return pipes.read_exactly(self.r, len(MESSAGE), timeout=2, what="child")

    def close(self):
        pipes.close_all(self.r, self.w)


class FifoEnds(PipeEnds):
    kind, maker = "FIFO", "mkfifo/open"

    def _make(self, ipc):
        path = ipc.fifo()
        self.r = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        self.w = os.open(path, os.O_WRONLY)
        for fd in (self.r, self.w):
            os.set_inheritable(fd, True)  # plain descriptors: Python opens with O_CLOEXEC


class MqDescriptor(Inherited):
    kind, maker = "message queue descriptor", "mq_open"

    def absent_reason(self, ipc):
        name = ipc.name()
        return facility.absent_reason("POSIX message queues", "CONFIG_POSIX_MQUEUE",
                                      lambda: mqueue.probe(name))

    def _make(self, ipc):
        name = ipc.name()
        self.mqd = mqueue.mq_open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600, maxmsg=1,
                                  msgsize=64)
        ipc.adopt_posix("mq", name)

    def use(self):
        mqueue.mq_send(self.mqd, MESSAGE)
        return True

    def received(self, used):
        return mqueue.mq_timedreceive(self.mqd, 64, seconds=2)[0]

    def close(self):
        mqueue.mq_close(self.mqd)


class NamedSemaphore(Inherited):
    kind, maker = "named semaphore", "sem_open"

    def _make(self, ipc):
        self.name = ipc.name()
        self.sem = posix_sem.sem_open(self.name, os.O_CREAT | os.O_EXCL, 0o600, 0)
        ipc.adopt_posix("sem", self.name)

    def use(self):
        posix_sem.sem_post(self.sem)
        return True

    def received(self, used):
        return MESSAGE if posix_sem.sem_getvalue(self.sem) == 1 else posix_sem.sem_getvalue(self.sem)

    def close(self):
        posix_sem.sem_close(self.sem)


class ShmAttachment(Inherited):
    kind, maker = "System V shm attachment", "shmget/shmat"

    def absent_reason(self, ipc):
        return sysvipc_absent_reason("shm")

    def _make(self, ipc):
        self.shmid = ipc.shm(4096)
        self.key = sysv.stat("shm", self.shmid).perm.key & 0xFFFFFFFF
        self.addr = sysv.shmat(self.shmid)

    def use(self):
        ctypes.memmove(self.addr, MESSAGE, len(MESSAGE))
        return sysv.stat("shm", self.shmid).nattch

    def received(self, used):
        return ctypes.string_at(self.addr, len(MESSAGE))

    def nattch(self) -> int:
        return sysv.stat("shm", self.shmid).nattch

    def close(self):
        try:
            sysv.shmdt(self.addr)
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise


KINDS = {cls.kind: cls for cls in (PipeEnds, FifoEnds, MqDescriptor, NamedSemaphore, ShmAttachment)}


def look(pid: int, objects: dict) -> dict:
    """For each named object, what process `pid` has of it: a descriptor's /proc/PID/fd link
    (None once closed), whether it maps the `file` (an os.stat result, found by device and
    inode), or whether it has a mapping whose path contains `mapped`."""
    with open(f"/proc/{pid}/maps") as f:
        paths = [fields[5] for fields in (line.split(maxsplit=5) for line in f) if len(fields) > 5]
    report = {}
    for name, what in objects.items():
        if "fd" in what:
            try:
                report[name] = os.readlink(f"/proc/{pid}/fd/{what['fd']}")
            except OSError:
                report[name] = None
        elif "file" in what:
            report[name] = shm.maps_file(what["file"], pid)
        else:
            names = what["mapped"] if isinstance(what["mapped"], tuple) else (what["mapped"],)
            report[name] = any(n in path for path in paths for n in names)
    return report
