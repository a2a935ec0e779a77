"""Every claim here needs POSIX message queues: without CONFIG_POSIX_MQUEUE they are not applicable.

The probe opens a name of the run's that does not exist (nothing is created): ENOENT says
the kernel has message queues, ENOSYS that it has none.
"""
import pytest

import pmq_helpers
from fixtures import facility, mqueue

_absent: list = []  # [reason or None], asked once per process


@pytest.fixture(autouse=True)
def _needs_posix_mqueue(ipc):
    if not _absent:
        name = ipc.name()
        _absent.append(facility.absent_reason("POSIX message queues", "CONFIG_POSIX_MQUEUE",
                                              lambda: mqueue.probe(name)))
    if _absent[0]:
        pytest.skip(_absent[0])


@pytest.fixture
def mq(ipc):
    """Queues for this test: made under the run's names, adopted at once, their descriptors
    closed (and the queues unlinked by ipc) at teardown."""
    queues = pmq_helpers.Queues(ipc)
    try:
        yield queues
    finally:
        queues.close_all()
