"""psem.named: sem_open("/name", O_CREAT) makes /dev/shm/sem.name; O_CREAT|O_EXCL on an existing
name fails with EEXIST; sem_open without O_CREAT opens the same semaphore."""
import errno
import os
import stat

import pytest

from fixtures import posix_sem as ps
from fixtures.expect import fails_with


@pytest.mark.claim("psem.named")
def test_sem_open_creates_dev_shm_entry(ipc, observe):
    """sem_open(O_CREAT|O_EXCL) makes /dev/shm/sem.NAME, a second O_EXCL open fails with EEXIST."""
    name = ipc.adopt_posix("sem", ipc.name())
    path = ps.dev_shm_path(name)
    sem = ps.sem_open(name, os.O_CREAT | os.O_EXCL, 0o600, 3)
    try:
        exists = os.path.exists(path)
        observe("appears in /dev/shm as sem.NAME", exists)
        assert exists, f"expected sem_open({name!r}, O_CREAT) to make {path}, it is not there"
        observe("is a regular file", stat.S_ISREG(os.stat(path).st_mode))
        err = fails_with(errno.EEXIST, ps.sem_open, name, os.O_CREAT | os.O_EXCL, 0o600, 0,
                         what=f"sem_open({name!r}, O_CREAT|O_EXCL) of an existing semaphore")
        observe("errno", errno.errorcode[err.errno])
        again = ps.sem_open(name)
        try:
            ps.sem_post(again)
            value = ps.sem_getvalue(sem)
        finally:
            ps.sem_close(again)
    finally:
        ps.sem_close(sem)
    observe("value after a post through the second open", value)
    assert value == 4, (f"expected sem_open({name!r}) without O_CREAT to open the same semaphore "
                        f"(created at 3, posted once through it: 4), the first handle reads {value}")
