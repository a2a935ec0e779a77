"""A pytest plugin for the self-tests: fixtures.mqueue as on a kernel whose mq_unlink removes
nothing, whose mq_notify registers nothing and whose priorities are ignored (every message
sent at priority 0). IPCC_BROKEN_MQUEUE names which, comma-separated: unlink, notify, prio."""
import os

from fixtures import mqueue

_BROKEN = set(os.environ.get("IPCC_BROKEN_MQUEUE", "").split(","))

if "unlink" in _BROKEN:
    mqueue.mq_unlink = lambda name: None
if "notify" in _BROKEN:
    mqueue.mq_notify = lambda mqd, ev: None
if "prio" in _BROKEN:
    _send = mqueue.mq_send
    mqueue.mq_send = lambda mqd, data, prio=0: _send(mqd, data, 0)
