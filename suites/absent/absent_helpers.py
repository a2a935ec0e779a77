"""What the absent suite asks of libc: whether it defines a symbol (for this process's dynamic
linker: a compatibility-only symbol that new programs cannot link is absent)."""
import ctypes
import ctypes.util
import os

from fixtures import libc as lc


def libc_has(name: str) -> bool:
    """True when libc defines `name` for new lookups (dlsym on the libc handle)."""
    return hasattr(lc.libc, name)


def process_has(name: str) -> bool:
    """True when any library loaded in this process defines `name` (dlsym(RTLD_DEFAULT))."""
    return hasattr(ctypes.CDLL(None), name)


def libc_version() -> str:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") or "libc of unknown version"
    except (ValueError, OSError):
        return "a libc that is not glibc"


def filesystems() -> list[str]:
    """The file system types this kernel has registered (the last field of /proc/filesystems)."""
    with open("/proc/filesystems") as f:
        return [line.split()[-1] for line in f if line.strip()]


def find_library(name: str):
    return ctypes.util.find_library(name)
