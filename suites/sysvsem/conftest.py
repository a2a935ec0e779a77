"""Every claim here needs System V semaphores: without CONFIG_SYSVIPC they are not applicable."""
import pytest

from fixtures.kernel import sysvipc_absent_reason


@pytest.fixture(autouse=True)
def _needs_sysv_semaphores():
    reason = sysvipc_absent_reason("sem")  # semctl(0, IPC_INFO): ENOSYS where they are absent
    if reason:
        pytest.skip(reason)
