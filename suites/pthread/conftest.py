"""Every claim here needs futex(2), which process-shared pthread objects sleep in: a kernel
without CONFIG_FUTEX answers it with ENOSYS, and the claims are not applicable."""
import ctypes

import pytest

from fixtures import abi, facility, libc, pthread_shared, syscalls

FUTEX_WAKE = 1


def _probe_futex():
    """futex(&word, FUTEX_WAKE, 1): wakes nobody and returns 0 where futex exists."""
    table = syscalls.SYSCALLS.get(syscalls.TABLE_OF_ABI.get(abi.process_abi(), ""), {})
    if "futex" not in table:
        return  # an untabled ABI: nothing to probe with, the claims decide
    word = ctypes.c_int(0)
    fn = libc.libc["syscall"]
    fn.restype = ctypes.c_long
    fn.argtypes = [ctypes.c_long, ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    libc.check(fn(table["futex"], ctypes.addressof(word), FUTEX_WAKE, 1), "futex(&word, FUTEX_WAKE, 1)")


@pytest.fixture(autouse=True)
def _needs_futex():
    facility.require("futex", "CONFIG_FUTEX", _probe_futex)


@pytest.fixture
def objects():
    """Slots for pthread objects in MAP_SHARED memory (pthread_shared.Objects), unmapped at teardown."""
    made = pthread_shared.Objects()
    try:
        yield made
    finally:
        made.close()
