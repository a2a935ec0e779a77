"""pmq.fs: the mqueue file system (mount -t mqueue) lists queues; reading one shows QSIZE, NOTIFY,
SIGNO, NOTIFY_PID. The instance is mounted privately, in the test's own mount namespace."""
import os
import re
import signal

import pytest

from fixtures import mqueue
from fixtures.kernel import has_capability
from pmq_helpers import CREATE, NOTIFY_SIGNAL, in_namespaces, mount_mqueue

MESSAGES = [b"hello", b"queue", b"file!!"]  # QSIZE counts their bytes: 16
LINE = re.compile(r"QSIZE:(\d+)\s+NOTIFY:(\d+)\s+SIGNO:(\d+)\s+NOTIFY_PID:(\d+)")


def _list_and_read(name, create, target):
    """Child, in its own mount namespace (and IPC namespace when `create`): queue the messages,
    register for SIGEV_SIGNAL, mount mqueue and read the listing and the queue's file."""
    mount_mqueue(target)
    flags = CREATE if create else os.O_RDWR
    mqd = mqueue.mq_open(name, flags, 0o600, 4, 16) if create else mqueue.mq_open(name, flags)
    for data in MESSAGES:
        mqueue.mq_send(mqd, data)
    signal.pthread_sigmask(signal.SIG_BLOCK, [NOTIFY_SIGNAL])
    mqueue.mq_notify(mqd, mqueue.sigevent_signal(NOTIFY_SIGNAL))  # the queue is not empty: no signal
    with open(os.path.join(target, name.lstrip("/"))) as f:
        text = f.read()
    return {"listed": name.lstrip("/") in os.listdir(target), "text": text,
            "pid": os.getpid()}


@pytest.mark.claim("pmq.fs")
def test_private_mqueue_mount_lists_and_describes(mq, ipc, spawn, observe):
    """A private mqueue mount lists the queue, and its file reads QSIZE = bytes queued, NOTIFY 0 (SIGEV_SIGNAL), SIGNO and NOTIFY_PID of the registered process."""
    own_namespace = has_capability("CAP_SYS_ADMIN")
    name = mq.create(4, 16).name if own_namespace else ipc.name()
    how, got = in_namespaces(spawn, _list_and_read, name, not own_namespace, ipc.dir,
                             ipc_ns=not own_namespace, mount_ns=True)
    observe("namespaces", how)
    observe("listed", got["listed"])
    observe("file", got["text"].strip(), run_specific=True)
    m = LINE.search(got["text"])
    assert m, f"expected the queue's file to read QSIZE:.. NOTIFY:.. SIGNO:.. NOTIFY_PID:.., it reads {got['text']!r}"
    fields = tuple(int(v) for v in m.groups())
    want = (sum(map(len, MESSAGES)), mqueue.SIGEV_SIGNAL, NOTIFY_SIGNAL, got["pid"])
    observe("QSIZE", fields[0])
    assert got["listed"], f"expected the mqueue mount to list {name.lstrip('/')}, it does not"
    assert fields == want, (
        f"expected QSIZE:{want[0]} NOTIFY:{want[1]} SIGNO:{want[2]} NOTIFY_PID:{want[3]} (the "
        f"registered child), the file reads {got['text'].strip()!r}")
