"""sysv.id_not_reused: an identifier just removed is not handed out again at once."""
import pytest

import sysv_helpers as sv
from fixtures import sysv

IPCMNI = 32768  # index range without the ipcmni_extend boot option


@pytest.mark.claim("sysv.id_not_reused")
@pytest.mark.parametrize("kind", sysv.KINDS)
def test_recreate_gets_new_id(ipc, observe, kind):
    """Create with a key, remove, create again with the same key: the second id differs from the first."""
    key = ipc.key()
    first = sv.make(ipc, kind, key=key)
    seq_first = sysv.stat(kind, first).perm.seq
    sysv.rmid(kind, first)
    second = sv.make(ipc, kind, key=key)
    seq_second = sysv.stat(kind, second).perm.seq
    observe("ids", [first, second], run_specific=True)
    observe("index_seq", [[first % IPCMNI, first // IPCMNI], [second % IPCMNI, second // IPCMNI]],
            run_specific=True)
    observe("perm_seq", [seq_first, seq_second], run_specific=True)
    # How the new id was made, the same in every run of one kernel: cyclic index allocation
    # (5.2 and later) moves to a new index; older kernels reuse the lowest free index and
    # bump the sequence number. (The sequence number itself also moves when the cyclic
    # cursor wraps, which depends on what else the run created: it stays run-specific.)
    observe("new_index", first % IPCMNI != second % IPCMNI)
    assert second != first, f"expected a new {kind} identifier after IPC_RMID, the kernel gave {first} again"
