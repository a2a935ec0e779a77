"""persistence.process, persistence.kernel, persistence.filesystem: what outlives the process that made it.

A child makes each object with content and exits; the parent then looks for it through
the kernel. Process-persistent objects are watched through a handle that does not keep
them alive (an epoll watch, /proc/PID/mem, the socket's or FIFO's name, a lock probe),
seen holding their content while the child lives, and gone once it has exited.
"""
import ctypes
import errno
import fcntl
import mmap
import os
import select
import socket
import stat

import pytest

from fixtures import libc, locks, mqueue, pipes, posix_sem, shared_memory, sysv
from fixtures.facility import absent_reason
from fixtures.kernel import sysvipc_absent_reason

CONTENT = b"made by a process that has exited"
HOLD_BOUND = 5.0


# -- process persistence: setup(ipc) in the parent before the fork, make(ctx) in the child,
# -- look(ctx, info) in the parent: (still there?, what the parent saw).

def _pipe_setup(ipc):
    # An epoll watch does not hold the file: the kernel drops it when the file is released.
    return {"epoll": select.epoll()}


def _pipe_make(ctx):
    r, w = os.pipe()
    os.write(w, CONTENT)
    ctx["epoll"].register(r, select.EPOLLIN)
    return {"ino": os.fstat(r).st_ino}


def _pipe_look(ctx, info):
    # Asked of epoll_wait, not of /proc/PID/fdinfo (a sandbox may not list watches there): the
    # pipe holds CONTENT, so its watch reports EPOLLIN for as long as the file exists.
    if not ctx["epoll"].poll(0):
        return False, f"pipe:[{info['ino']}] no longer reported by epoll: the watch went with the file"
    return True, f"pipe:[{info['ino']}] still reported readable by its epoll watch"


def _fifo_setup(ipc):
    return {"path": ipc.fifo()}


def _fifo_make(ctx):
    rfd = os.open(ctx["path"], os.O_RDONLY | os.O_NONBLOCK)
    wfd = os.open(ctx["path"], os.O_WRONLY | os.O_NONBLOCK)
    os.write(wfd, CONTENT)
    return {"fds": (rfd, wfd)}


def _fifo_look(ctx, info):
    name_stays = stat.S_ISFIFO(os.lstat(ctx["path"]).st_mode)
    assert name_stays, "expected the FIFO's name to stay in the file system"
    # A non-blocking peek: the opens add holders only for the moment of the look.
    rfd = os.open(ctx["path"], os.O_RDONLY | os.O_NONBLOCK)
    try:
        held = pipes.queued(rfd)
    finally:
        os.close(rfd)
    return bool(held), f"name stays, FIFO holds {held} bytes"


def _socket_setup(ipc):
    return {"path": ipc.path("sock")}


def _socket_make(ctx):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(ctx["path"])
    server.listen(4)
    # Content: a connection with bytes in it, queued and not yet accepted.
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(ctx["path"])
    client.sendall(CONTENT)
    return {"fds": (server.detach(), client.detach())}


def _socket_look(ctx, info):
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(ctx["path"])
    except OSError as exc:
        assert exc.errno == errno.ECONNREFUSED, f"expected ECONNREFUSED, connect() gave {libc.errno_name(exc.errno)}"
        assert stat.S_ISSOCK(os.lstat(ctx["path"]).st_mode), "the socket file should stay behind"
        return False, "socket file stays, connect() refused with ECONNREFUSED"
    finally:
        probe.close()
    return True, "listening socket accepts connect()"


def _mapping_setup(ipc):
    return {}


def _mapping_make(ctx):
    area = mmap.mmap(-1, 4096, mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
    area[:len(CONTENT)] = CONTENT
    ctx["area"] = area  # kept referenced until exit
    return {"addr": ctypes.addressof(ctypes.c_char.from_buffer(area)), "pid": os.getpid()}


def _mapping_look(ctx, info):
    if "mem" not in ctx:
        # /proc/PID/mem pins the mm_struct, not its mappings: they go when the process exits.
        ctx["mem"] = os.open(f"/proc/{info['pid']}/mem", os.O_RDONLY)
    seen = os.pread(ctx["mem"], len(CONTENT), info["addr"])
    return seen == CONTENT, f"/proc/PID/mem at the mapping reads {seen!r}"


def _lockfile_setup(ipc):
    path = ipc.path("lockfile")
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    return {"path": path}


def _flock_make(ctx):
    fd = os.open(ctx["path"], os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return {"fd": fd}


def _flock_look(ctx, info):
    fd = os.open(ctx["path"], os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        assert exc.errno == errno.EWOULDBLOCK, f"flock(LOCK_NB) gave {libc.errno_name(exc.errno)}"
        return True, "flock(LOCK_EX|LOCK_NB) refused: EWOULDBLOCK"
    finally:
        os.close(fd)  # also drops the probe's own lock
    return False, "flock(LOCK_EX|LOCK_NB) granted"


def _fcntl_make(ctx):
    fd = os.open(ctx["path"], os.O_RDWR)
    locks.setlk(fd, locks.F_WRLCK)
    return {"pid": os.getpid()}


def _fcntl_look(ctx, info):
    fd = os.open(ctx["path"], os.O_RDWR)
    try:
        held = locks.getlk(fd)
        l_type, l_pid = held.l_type, held.l_pid
    finally:
        os.close(fd)
    if l_type == fcntl.F_UNLCK:
        return False, "F_GETLK: F_UNLCK"
    return l_pid == info["pid"], f"F_GETLK: F_WRLCK held by pid {l_pid} (maker {info['pid']})"


PROCESS = {
    "pipe": (_pipe_setup, _pipe_make, _pipe_look),
    "fifo_data": (_fifo_setup, _fifo_make, _fifo_look),
    "unix_socket": (_socket_setup, _socket_make, _socket_look),
    "anonymous_mapping": (_mapping_setup, _mapping_make, _mapping_look),
    "flock_lock": (_lockfile_setup, _flock_make, _flock_look),
    "fcntl_lock": (_lockfile_setup, _fcntl_make, _fcntl_look),
}


def _make_and_hold(make, ctx, made, finish):
    made.send(make(ctx))
    finish.recv(timeout=HOLD_BOUND, what="the order to exit")
    return "exiting"  # without closing anything: exit releases what the process holds


def _close_ctx(ctx):
    if "epoll" in ctx:
        ctx["epoll"].close()
    if "mem" in ctx:
        os.close(ctx["mem"])


@pytest.mark.claim("persistence.process")
@pytest.mark.parametrize("facility", list(PROCESS))
def test_process_persistence(facility, ipc, spawn, channel, observe):
    """The object is visible with its content while its maker lives and gone after the maker exits."""
    setup, make, look = PROCESS[facility]
    ctx = setup(ipc)
    made, finish = channel(), channel()
    try:
        maker = spawn(_make_and_hold, make, ctx, made, finish, name=f"{facility} maker")
        info = made.recv(timeout=HOLD_BOUND, what=f"the {facility} maker")
        there_while_alive, while_alive = look(ctx, info)
        finish.send("exit")
        maker.value(timeout=2)
        there_after_exit, after_exit = look(ctx, info)
    finally:
        _close_ctx(ctx)
    observe("while_maker_lives", while_alive, run_specific=True)
    observe("after_maker_exits", after_exit, run_specific=True)
    assert there_while_alive, f"{facility}: the probe should see the object while its maker lives, it saw: {while_alive}"
    assert not there_after_exit, (
        f"expected the {facility} to vanish with its only process, after the exit: {after_exit}")


# -- kernel persistence: the child makes the object from a key/name the ipc fixture gave,
# -- sets its content and exits; the parent reads the content back through the kernel.

def _msg_make(key):
    ident = libc.msgget(key, libc.IPC_CREAT | libc.IPC_EXCL | 0o600)
    libc.msgsnd(ident, 7, CONTENT)
    return ident


def _msg_read(ident, maker_pid, observe):
    observe("last_sender_pid_is_maker", sysv.stat("msg", ident).lspid == maker_pid)
    return libc.msgrcv(ident, 256, 0, libc.IPC_NOWAIT)[1]


def _sem_make(key):
    ident = libc.semget(key, 1, libc.IPC_CREAT | libc.IPC_EXCL | 0o600)
    sysv.semop_add(ident, 3)
    return ident


def _sem_read(ident, maker_pid, observe):
    observe("last_semop_pid_is_maker", sysv.semctl_get(ident, sysv.GETPID) == maker_pid)
    return sysv.semctl_get(ident, sysv.GETVAL)


def _shm_make(key):
    ident = libc.shmget(key, 4096, libc.IPC_CREAT | libc.IPC_EXCL | 0o600)
    sysv.shm_write(ident, CONTENT)
    return ident


def _shm_read(ident, maker_pid, observe):
    observe("creator_pid_is_maker", sysv.stat("shm", ident).cpid == maker_pid)
    return sysv.shm_read(ident, len(CONTENT))


CREATE = os.O_CREAT | os.O_EXCL


def _posix_mq_make(name):
    mqd = mqueue.mq_open(name, CREATE | os.O_WRONLY, 0o600, maxmsg=4, msgsize=256)
    mqueue.mq_send(mqd, CONTENT)
    mqueue.mq_close(mqd)


def _posix_mq_read(name, maker_pid, observe):
    mqd = mqueue.mq_open(name, os.O_RDONLY | os.O_NONBLOCK)
    try:
        observe("messages_queued", mqueue.mq_getattr(mqd).mq_curmsgs)
        return mqueue.mq_receive(mqd, 256)[0]
    finally:
        mqueue.mq_close(mqd)


def _posix_sem_make(name):
    sem = posix_sem.sem_open(name, CREATE, 0o600, 0)
    for _ in range(3):
        posix_sem.sem_post(sem)
    posix_sem.sem_close(sem)


def _posix_sem_read(name, maker_pid, observe):
    sem = posix_sem.sem_open(name)
    try:
        return posix_sem.sem_getvalue(sem)
    finally:
        posix_sem.sem_close(sem)


def _posix_shm_make(name):
    fd = shared_memory.shm_open(name, CREATE | os.O_RDWR)
    shared_memory.ftruncate(fd, 4096)
    area = mmap.mmap(fd, 4096, mmap.MAP_SHARED)
    os.close(fd)
    area[:len(CONTENT)] = CONTENT


def _posix_shm_read(name, maker_pid, observe):
    fd = shared_memory.shm_open(name, os.O_RDONLY)
    try:
        observe("size", os.fstat(fd).st_size)
        return os.pread(fd, len(CONTENT), 0)
    finally:
        os.close(fd)


# facility: (kind for the ipc fixture, make(key or name) in the child, read(...) in the parent, content)
KERNEL = {
    "sysv_msg": ("sysv_msg", _msg_make, _msg_read, CONTENT),
    "sysv_sem": ("sysv_sem", _sem_make, _sem_read, 3),
    "sysv_shm": ("sysv_shm", _shm_make, _shm_read, CONTENT),
    "posix_mq": ("mq", _posix_mq_make, _posix_mq_read, CONTENT),
    "posix_named_sem": ("sem", _posix_sem_make, _posix_sem_read, 3),
    "posix_shm": ("shm", _posix_shm_make, _posix_shm_read, CONTENT),
}

_SYSV_LOOKUP = {"sysv_msg": lambda k: libc.msgget(k, 0), "sysv_sem": lambda k: libc.semget(k, 0, 0),
                "sysv_shm": lambda k: libc.shmget(k, 0, 0)}


def _adopt_sysv_by_key(ipc, kind, key):
    """Hand what the child made from our key to the ipc fixture; None when nothing is there."""
    try:
        ident = _SYSV_LOOKUP[kind](key)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise
    return ipc.adopt_sysv(kind, ident, key)


@pytest.mark.claim("persistence.kernel")
@pytest.mark.parametrize("facility", list(KERNEL))
def test_kernel_persistence(facility, ipc, spawn, kernel, observe):
    """After its creator has exited, the object is still there and gives back the content the creator left."""
    kind, make, read, content = KERNEL[facility]
    sysv = kind.startswith("sysv")
    if sysv:
        reason = sysvipc_absent_reason(kind.removeprefix("sysv_"))
    elif kind == "mq":
        reason = absent_reason("POSIX message queues", "CONFIG_POSIX_MQUEUE",
                               lambda: mqueue.probe(ipc.name()))
    else:
        reason = absent_reason("POSIX shared memory (/dev/shm)", "CONFIG_SHMEM", shared_memory.shm_probe)
    if reason:
        pytest.skip(reason)
    handle = ipc.key() if sysv else ipc.adopt_posix(kind, ipc.name())
    creator = spawn(make, handle, name=f"{facility} creator")
    try:
        ended = creator.result(timeout=5)
    finally:
        if sysv:
            handle = _adopt_sysv_by_key(ipc, kind, handle)
    ended.unwrap()
    observe("creator_exit", str(ended), run_specific=True)
    if facility == "sysv_shm" and kernel.limit("kernel/shm_rmid_forced") == 1:
        # This kernel is told to destroy unattached segments with their creator.
        observe("shm_rmid_forced", 1)
        assert handle is None, "expected kernel.shm_rmid_forced=1 to destroy the segment with its creator"
        return
    assert handle is not None, f"expected the {facility} to outlive its creator, its key finds nothing"
    try:
        survived = read(handle, creator.pid, observe)
    except OSError as exc:
        raise AssertionError(f"expected the {facility} to outlive its creator with its content, "
                             f"reading it gave {libc.errno_name(exc.errno)}") from exc
    observe("content_after_exit", survived.decode() if isinstance(survived, bytes) else survived)
    assert survived == content, (
        f"expected the {facility} to keep {content!r} after its creator exited, it holds {survived!r}")


# -- file-system persistence

def _write_through_mapping(path):
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    os.ftruncate(fd, 4096)
    area = mmap.mmap(fd, 4096, mmap.MAP_SHARED)
    os.close(fd)
    area[:len(CONTENT)] = CONTENT
    return "exiting with the mapping in place"  # no msync(), no munmap(): exit does the unmapping


@pytest.mark.claim("persistence.filesystem")
@pytest.mark.parametrize("facility", ["memory_mapped_file"])
def test_filesystem_persistence(facility, ipc, spawn, observe):
    """Bytes stored through a MAP_SHARED mapping are read back with read(2) after the writer exited."""
    path = ipc.path("mapped")
    spawn.run(_write_through_mapping, path, timeout=5, name="writer through a shared mapping").unwrap()
    with open(path, "rb") as f:
        survived = f.read(len(CONTENT))
    observe("file_size", os.stat(path).st_size)
    observe("content_after_exit", survived.decode(errors="replace"))
    assert survived == CONTENT, (
        f"expected the file to keep {CONTENT!r} written through the mapping, read() gives {survived!r}")
