"""exec.close: exec closes message queue descriptors and named semaphores and detaches System V
shared memory; other descriptors stay open unless FD_CLOEXEC is set."""
import os
import shutil

import pytest

from fixtures import pipes, posix_sem
from fixtures.procs import poll_until
from fixtures.verdict import Undecided
from fork_helpers import FifoEnds, MqDescriptor, NamedSemaphore, PipeEnds, ShmAttachment, look

# The program exec'd: cat reading a pipe that the test closes once it has looked at the process.
CAT = os.path.realpath(shutil.which("cat") or "/bin/cat")


class _Descriptors:
    """Descriptors of the test's own, closed at teardown by the `made` fixture."""

    def __init__(self, *fds):
        self.fds = list(fds)

    def close_now(self, fd):
        self.fds.remove(fd)
        pipes.close_all(fd)

    def close(self):
        pipes.close_all(*self.fds)
        self.fds.clear()


def _fd(fd):
    return {"fd": fd, "link": os.readlink(f"/proc/self/fd/{fd}")}


# name: (the object, what look() looks for in a process holding it, the state expected after exec)
LOOKS = {
    "message queue descriptor": (MqDescriptor, lambda o: _fd(o.mqd), "closed"),
    # glibc maps a temporary file that it then links to the name: found by the file, not its path
    "named semaphore": (NamedSemaphore, lambda o: {"file": os.stat(posix_sem.dev_shm_path(o.name))},
                        "unmapped"),
    # Linux names the mapping /SYSV<key in hex>, gVisor SYSV<key in decimal>: either is the segment
    "System V shm attachment": (ShmAttachment, lambda o: {"mapped": (f"SYSV{o.key:08x}",
                                                                     f"SYSV{o.key:08d}")},
                                "unmapped"),
    "pipe descriptor": (PipeEnds, lambda o: _fd(o.w), "open"),
    "FIFO descriptor": (FifoEnds, lambda o: _fd(o.w), "open"),
}


def _objects(ipc, made, partial):
    """({name: (what to look for, expected state after exec)}, the shm attachment or None)."""
    objects, shm = {}, None
    for name, (cls, looks_for, state) in LOOKS.items():
        obj = cls()
        why = obj.make(ipc)
        if why:
            partial(name, why)
            continue
        made(obj)
        objects[name] = (looks_for(obj), state)
        shm = obj if isinstance(obj, ShmAttachment) else shm
    cloexec_r, cloexec_w = os.pipe()  # O_CLOEXEC
    made(_Descriptors(cloexec_r, cloexec_w))
    objects["FD_CLOEXEC pipe descriptor"] = (_fd(cloexec_w), "closed")
    return objects, shm


def _state(what, seen):
    if "fd" in what:
        return "open" if seen == what["link"] else "closed"
    return "mapped" if seen else "unmapped"


def _exec_cat(ready, go, release):
    """In the child: say it is ready, wait to be looked at, then exec cat reading `release`."""
    ready.send("ready")
    go.recv(timeout=10, what="the test")
    os.dup2(release, 0)
    os.execv(CAT, ["cat"])


def _exe(pid):
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


@pytest.mark.claim("exec.close")
def test_exec_closes_ipc_keeps_plain_fds(ipc, made, spawn, channel, partial, observe):
    """Before exec the child has every object; after exec the message queue descriptor, the named
    semaphore's mapping and the System V attachment are gone (shm_nattch drops), plain descriptors
    stay, FD_CLOEXEC ones are closed."""
    objects, shm = _objects(ipc, made, partial)
    looks = {name: what for name, (what, _) in objects.items()}
    release_r, release_w = os.pipe()
    release = _Descriptors(release_r, release_w)
    made(release)
    ready, go = channel(), channel()
    child = spawn(_exec_cat, ready, go, release_r, name="child that execs cat")
    ready.recv(timeout=5, what="child before exec")
    inherited = look(child.pid, looks)
    go.send("exec")
    if not poll_until(lambda: _exe(child.pid) == CAT, timeout=5):
        raise Undecided(f"the child never became {CAT} within 5s (exe {_exe(child.pid)})")
    child.wait_blocked("read", what="exec'd cat")
    after = look(child.pid, looks)
    nattch = shm.nattch() if shm else None  # while the exec'd program still lives
    release.close_now(release_w)  # cat reads EOF and exits
    result = child.result(timeout=5)
    assert result.exitcode == 0, f"expected the exec'd cat to exit 0 at EOF, it {result}"
    states_before = {n: _state(what, inherited.get(n)) for n, (what, _) in objects.items()}
    states_after = {n: _state(what, after.get(n)) for n, (what, _) in objects.items()}
    observe("before exec", states_before)
    observe("after exec", states_after)
    held = {n: ("open" if "fd" in what else "mapped") for n, (what, _) in objects.items()}
    assert states_before == held, f"expected the child to hold every object before exec, it had {states_before}"
    expected = {n: state for n, (_, state) in objects.items()}
    assert states_after == expected, f"expected after exec {expected}, the exec'd cat had {states_after}"
    if shm:
        observe("shm_nattch with the exec'd program alive", nattch)
        assert nattch == 1, f"expected shm_nattch 1 (the parent's only) once the child exec'd, got {nattch}"
