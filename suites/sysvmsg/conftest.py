"""Every claim here needs System V IPC: without CONFIG_SYSVIPC they are not applicable."""
import pytest


@pytest.fixture(autouse=True)
def _needs_sysvipc(require_sysvipc):
    pass
