"""Every claim here needs System V shared memory: without CONFIG_SYSVIPC they are not applicable."""
import pytest

from fixtures.kernel import sysvipc_absent_reason


@pytest.fixture(autouse=True)
def _needs_sysv_shm():
    reason = sysvipc_absent_reason("shm")  # shmctl(0, IPC_INFO): ENOSYS where it is absent
    if reason:
        pytest.skip(reason)


@pytest.fixture
def survives(verdict_note, observe):
    """survives(shmid, after) -> whether the segment is still there `after` (a moment when no
    process is attached), asserted against kernel.shm_rmid_forced: 0 keeps it, 1 destroys it."""
    import sysvshm_helpers as shm

    def check(shmid: int, after: str) -> bool:
        forced = shm.rmid_forced()
        present = shm.exists(shmid)
        observe(f"exists {after}", present)
        verdict_note(shm.FORCED_NOTE[forced])
        assert present != forced, (
            f"expected the segment {'destroyed' if forced else 'kept'} {after} "
            f"(kernel.shm_rmid_forced={int(forced)}), it is {'still there' if present else 'gone'}")
        return present
    return check
