"""Every claim here needs System V shared memory: without CONFIG_SYSVIPC they are not applicable."""
import pytest

from fixtures.kernel import sysvipc_absent_reason


@pytest.fixture(autouse=True)
def _needs_sysv_shm():
    reason = sysvipc_absent_reason("shm")  # shmctl(0, IPC_INFO): ENOSYS where it is absent
    if reason:
        pytest.skip(reason)
