"""Every claim here needs futex(2), which process-shared pthread objects sleep in: a kernel
without CONFIG_FUTEX answers it with ENOSYS, and the claims are not applicable."""
import pytest

from fixtures import facility, pthread_shared

@pytest.fixture(autouse=True)
def _needs_futex():
    facility.require("futex", "CONFIG_FUTEX", facility.futex_probe)


@pytest.fixture
def objects():
    """Slots for pthread objects in MAP_SHARED memory (pthread_shared.Objects), unmapped at teardown."""
    made = pthread_shared.Objects()
    try:
        yield made
    finally:
        made.close()
