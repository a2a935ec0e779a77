"""fifo.create: mkfifo, mknod(S_IFIFO) and mkfifoat make a FIFO, mode filtered by the umask; EEXIST if it exists."""
import ctypes
import errno
import os
import stat

import pytest

from fixtures import libc
from fixtures.expect import fails_with

AT_FDCWD = -100
UMASK = 0o027
REQUESTED = 0o666

_mkfifoat = libc.libc["mkfifoat"]
_mkfifoat.restype = ctypes.c_int
_mkfifoat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]


def _by_mkfifo(directory, name, mode):
    os.mkfifo(os.path.join(directory, name), mode)


def _by_mknod(directory, name, mode):
    os.mknod(os.path.join(directory, name), stat.S_IFIFO | mode)


def _by_mkfifoat_dirfd(directory, name, mode):
    # The cwd is elsewhere, so only the directory descriptor can resolve the relative name.
    os.chdir("/")
    dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        libc.check(_mkfifoat(dfd, name.encode(), mode), "mkfifoat(dirfd)")
    finally:
        os.close(dfd)


def _by_mkfifoat_cwd(directory, name, mode):
    os.chdir(directory)
    libc.check(_mkfifoat(AT_FDCWD, name.encode(), mode), "mkfifoat(AT_FDCWD)")


CREATORS = {"mkfifo": _by_mkfifo, "mknod": _by_mknod, "mkfifoat_dirfd": _by_mkfifoat_dirfd,
            "mkfifoat_AT_FDCWD": _by_mkfifoat_cwd}


def _create_twice(how, directory, name):
    os.umask(UMASK)
    CREATORS[how](directory, name, REQUESTED)
    st = os.lstat(os.path.join(directory, name))
    again = fails_with(errno.EEXIST, CREATORS[how], directory, name, REQUESTED,
                       what=f"{how} of a path that exists")
    return {"st_mode": st.st_mode, "second_errno": libc.errno_name(again.errno)}


@pytest.mark.claim("fifo.create")
@pytest.mark.parametrize("how", list(CREATORS))
def test_creates_fifo_with_umasked_mode(how, ipc, spawn, observe):
    """Under umask 027 a request for 0666 makes a FIFO with mode 0640; making it again fails with EEXIST."""
    made = spawn.run(_create_twice, how, ipc.dir, "made-fifo", name=f"{how} caller").unwrap()
    mode = made["st_mode"]
    observe("mode", oct(stat.S_IMODE(mode)))
    observe("file_type", "fifo" if stat.S_ISFIFO(mode) else oct(stat.S_IFMT(mode)))
    observe("second_errno", made["second_errno"])
    expected = REQUESTED & ~UMASK
    assert stat.S_ISFIFO(mode) and stat.S_IMODE(mode) == expected, (
        f"{how}: expected a FIFO with mode {oct(expected)} (0666 & ~umask 027), "
        f"the kernel made type {oct(stat.S_IFMT(mode))} mode {oct(stat.S_IMODE(mode))}")
