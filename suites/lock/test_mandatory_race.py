"""lock.mandatory.race: where mandatory locking is enforced it is racy: a write() that passed the
lock check before another process took the lock still modifies the locked region."""
import os

import pytest

from fixtures.expect import succeeds
from fixtures.locks import F_WRLCK, setlk
from mandlock_helpers import expects_enforcement, io_once, stalled_write
from test_mandatory import mand_file  # noqa: F401 - the same private mand mount

TEXT = b"RACED-IN"


@pytest.mark.claim("lock.mandatory.race")
def test_in_flight_write_lands_in_locked_region(kernel, request, spawn, channel, observe,
                                                verdict_note):
    """A write stalled mid-copy (userfaultfd) completes into a region locked after its check."""
    if not expects_enforcement(kernel):
        pytest.skip("mandatory locking is not in this kernel (removed in 5.15 / "
                    "CONFIG_MANDATORY_FILE_LOCKING unset): there is no race to show")
    path, _ = request.getfixturevalue("mand_file")
    stalled, go = channel(), channel()
    writer = spawn(stalled_write, path, TEXT, stalled, go, name="stalled writer")
    state, detail = stalled.recv(what="stalled writer")
    if state == "unavailable":
        pytest.skip(f"needs userfaultfd to stall the write (CONFIG_USERFAULTFD, and CAP_SYS_PTRACE "
                    f"or vm.unprivileged_userfaultfd=1); it gave {detail}")
    fd = os.open(path, os.O_RDWR)
    try:
        succeeds(setlk, fd, F_WRLCK, 0, 0, what="F_WRLCK while another process's write is in flight")
        go.send("locked")
        count = writer.value(timeout=2)
        content = os.pread(fd, len(TEXT), 0)
        fresh = spawn.run(io_once, path, "write", True, timeout=2).unwrap()
    finally:
        os.close(fd)
    observe("fault_address", detail, run_specific=True)
    observe("in_flight_write", count)
    observe("region_under_lock", content.decode(errors="replace"))
    observe("fresh_nonblocking_write", fresh)
    assert content == TEXT, (f"expected the in-flight write to modify the region locked after its "
                             f"check (the documented race), the region holds {content!r}")
    verdict_note(f"raced: a write() held mid-copy after its lock check wrote {count} bytes into the "
                 f"region locked meanwhile; a fresh O_NONBLOCK write then got {fresh}")
