"""sysvmsg.init: a new queue has qnum 0, lspid = lrpid = 0, stime = rtime = 0, ctime = now, qbytes = MSGMNB."""
import time

import pytest

import sysvmsg_helpers as mq
from fixtures import sysv


@pytest.mark.claim("sysvmsg.init")
@pytest.mark.parametrize("key", mq.CREATE.values(), ids=mq.CREATE.keys())
def test_new_queue_state(ipc, kernel, observe, key):
    """IPC_STAT of a queue just made by msgget shows the documented initial msqid_ds."""
    msgmnb = kernel.limit("kernel/msgmnb")
    before = time.time()
    ds = sysv.stat("msg", ipc.msgq(key=key))
    after = time.time()
    got = {"qnum": ds.qnum, "cbytes": ds.cbytes, "lspid": ds.lspid, "lrpid": ds.lrpid,
           "stime": ds.stime, "rtime": ds.rtime, "qbytes": ds.qbytes}
    want = {"qnum": 0, "cbytes": 0, "lspid": 0, "lrpid": 0, "stime": 0, "rtime": 0, "qbytes": msgmnb}
    observe("msgmnb", msgmnb)
    observe("msqid_ds", got)
    observe("ctime", ds.ctime, run_specific=True)
    assert got == want, f"expected a new queue's msqid_ds to be {want}, IPC_STAT says {got}"
    # The kernel stamps ctime from its coarse clock (whole seconds), which may trail
    # time.time() by a tick: one second of slack below.
    assert int(before) - 1 <= ds.ctime <= after, (
        f"expected msg_ctime to be the creation time ({before:.3f}..{after:.3f}), IPC_STAT says {ds.ctime}")
