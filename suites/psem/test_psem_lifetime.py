"""psem.lifetime: a named semaphore opened before fork stays open in the child; exec and exit close it
(its /dev/shm/sem.NAME mapping is gone); the name and value persist until sem_unlink."""
import errno
import os
import sys

import pytest

from fixtures import posix_sem as ps
from fixtures import shared_memory as shm
from fixtures.expect import fails_with
from fixtures.pipes import read_to_eof
from fixtures.procs import poll_until, proc_state

# Run by the exec'd image: is the semaphore's file still mapped? (argv: its /proc/PID/maps
# "dev inode", the fd to report on)
MAPPED_AFTER_EXEC = """
import os, sys
with open('/proc/self/maps') as f:
    mapped = any(line.split()[3:5] == sys.argv[1].split() for line in f)
os.write(int(sys.argv[2]), b'mapped' if mapped else b'not mapped')
"""


@pytest.fixture
def sem_name(ipc):
    return ipc.adopt_posix("sem", ipc.name())


def _post_inherited(sem, path):
    ps.sem_post(sem)  # the parent's handle, inherited by fork
    return shm.maps_file(os.stat(path))


@pytest.mark.claim("psem.lifetime")
def test_open_semaphore_survives_fork(sem_name, spawn, observe):
    """A forked child posts through the handle its parent opened; its mappings list /dev/shm/sem.NAME."""
    path = ps.dev_shm_path(sem_name)
    sem = ps.sem_open(sem_name, os.O_CREAT | os.O_EXCL, 0o600, 0)
    try:
        mapped = spawn.run(_post_inherited, sem, path, name="forked child", timeout=5).unwrap()
        value = ps.sem_getvalue(sem)
    finally:
        ps.sem_close(sem)
    observe("mapped in the forked child", mapped)
    assert (mapped, value) == (True, 1), (
        f"expected the semaphore open in the forked child ({path} mapped) and its post seen by the "
        f"parent (value 1); mapped: {mapped}, value {value}")


def _open_then_exec(name, path, report_fd):
    sem = ps.sem_open(name)
    st = os.stat(path)
    assert shm.maps_file(st), f"sem_open({name!r}) did not map {path} before the exec"
    os.set_inheritable(report_fd, True)
    where = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x} {st.st_ino}"
    os.execv(sys.executable, [sys.executable, "-I", "-S", "-c", MAPPED_AFTER_EXEC, where,
                              str(report_fd)])
    return sem  # not reached


@pytest.mark.claim("psem.lifetime")
def test_exec_closes_semaphore(sem_name, spawn, observe):
    """A process that has the semaphore open (mapped) and execs has no mapping of it in the new image."""
    path = ps.dev_shm_path(sem_name)
    ps.sem_close(ps.sem_open(sem_name, os.O_CREAT | os.O_EXCL, 0o600, 0))
    r, w = os.pipe()
    child = spawn(_open_then_exec, sem_name, path, w, name="child that execs")
    os.close(w)
    try:
        seen = read_to_eof(r, timeout=5, what="the exec'd image").decode()
    finally:
        os.close(r)
    result = child.result(timeout=5)
    result.unwrap()  # an assertion before the exec is the verdict
    observe("after exec", seen)
    assert seen == "not mapped", (f"expected exec to close the semaphore ({path} no longer mapped), "
                                  f"the exec'd image reports {seen or 'nothing'} ({result})")


def _create_and_exit(name, path):
    ps.sem_open(name, os.O_CREAT | os.O_EXCL, 0o600, 2)  # neither sem_close nor sem_unlink
    return shm.maps_file(os.stat(path))


@pytest.mark.claim("psem.lifetime")
def test_exit_closes_and_name_persists_until_unlink(sem_name, spawn, observe):
    """The creator exits with it open: its mapping goes, the name keeps value 2 until sem_unlink removes it."""
    path = ps.dev_shm_path(sem_name)
    creator = spawn(_create_and_exit, sem_name, path, name="creator")
    assert poll_until(lambda: proc_state(creator.pid) in ("Z", None), 5), "the creator did not exit"
    after_exit = shm.maps_file(os.stat(path), creator.pid)  # a zombie has no mappings left
    mapped_before = creator.value(timeout=5)
    observe("mapped by the creator before exit", mapped_before)
    observe("mapped by the creator after exit", after_exit)
    assert (mapped_before, after_exit) == (True, False), (
        f"expected exit to close the semaphore: mapped before exit {mapped_before}, after {after_exit}")
    sem = ps.sem_open(sem_name)
    try:
        value = ps.sem_getvalue(sem)
    finally:
        ps.sem_close(sem)
    observe("value after the creator exited", value)
    assert value == 2, f"expected the semaphore to outlive its creator with value 2, it reads {value}"
    ps.sem_unlink(sem_name)
    fails_with(errno.ENOENT, ps.sem_open, sem_name, what=f"sem_open({sem_name!r}) after sem_unlink")
    observe("in /dev/shm after sem_unlink", os.path.exists(path))
    assert not os.path.exists(path), f"expected sem_unlink to remove {path}, it is still there"
