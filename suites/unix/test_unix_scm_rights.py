"""unix.scm_rights: a descriptor passed with SCM_RIGHTS refers, in the receiver, to the same open
file description (same file, shared offset, shared status flags), also in an exec'd receiver
that never inherited it."""
import fcntl
import json
import os
import socket
import sys

import pytest

import unix_fd_receiver
from fixtures.pipes import close_all
from fixtures.verdict import precondition
from unix_helpers import accept, recv_within, socket_path

RECEIVER = os.path.abspath(unix_fd_receiver.__file__)
CONTENT = b"0123456789"
OFFSET = 3  # where the sender leaves the offset before passing the descriptor


def _open_scratch(ipc) -> int:
    """The file to pass, opened after the receiver exists (so it cannot have inherited it): offset
    OFFSET, O_NONBLOCK set (a status flag the receiver must see)."""
    with precondition("make the file to pass"):
        fd = os.open(ipc.path("passed"), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, CONTENT)
        os.lseek(fd, OFFSET, os.SEEK_SET)
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
    return fd


def _exec_receiver(path):
    os.execv(sys.executable, [sys.executable, "-I", "-S", RECEIVER, path])


def _read_report(conn) -> dict:
    data = b""
    while True:
        chunk = recv_within(conn, 4096, what="exec'd receiver")
        if not chunk:
            return json.loads(data or b"{}")
        data += chunk


def _check(fd, report, observe, who):
    st = os.fstat(fd)
    offset_after = os.lseek(fd, 0, os.SEEK_CUR)
    append = bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_APPEND)
    close_all(fd)
    observe("receiver saw", {k: report.get(k) for k in ("offset", "nonblock", "read")})
    observe("sender's offset after the receiver read", offset_after)
    observe("receiver's descriptor number", report.get("fd"), run_specific=True)
    assert report.get("descriptors") == 1, f"expected one descriptor at the {who}, it got {report}"
    assert (report["dev"], report["ino"]) == (st.st_dev, st.st_ino), (
        f"expected the {who}'s descriptor on the same file (dev {st.st_dev}, ino {st.st_ino}), it is on "
        f"dev {report['dev']}, ino {report['ino']}")
    seen = (report["offset"], report["nonblock"], report["read"])
    assert seen == (OFFSET, True, "34"), (
        f"expected the {who} to find the sender's offset {OFFSET} and O_NONBLOCK and read '34' there; "
        f"it found offset {report['offset']}, O_NONBLOCK {report['nonblock']} and read {report['read']!r}")
    assert (offset_after, append) == (OFFSET + 2, True), (
        f"expected the sender's offset moved to {OFFSET + 2} by the {who}'s read and O_APPEND set by it "
        f"(one open file description); the sender sees offset {offset_after}, O_APPEND {append}")


@pytest.mark.claim("unix.scm_rights")
def test_forked_receiver_shares_description(socks, ipc, spawn, observe):
    """A child forked before the file was opened receives its descriptor: same file, shared offset
    and status flags."""
    mine, theirs = socks.socketpair("stream")
    receiver = spawn(unix_fd_receiver.receive_and_report, theirs, name="forked receiver")
    fd = _open_scratch(ipc)
    socket.send_fds(mine, [b"fd"], [fd])
    _check(fd, receiver.value(timeout=5), observe, "forked receiver")


@pytest.mark.claim("unix.scm_rights")
def test_exec_receiver_shares_description(socks, ipc, spawn, observe):
    """An exec'd program connecting by path receives the descriptor: same file, shared offset and
    status flags."""
    listener, path = socks.bound("stream", socket_path(ipc))
    receiver = spawn(_exec_receiver, path, name="exec'd receiver")
    conn, _ = accept(listener, what="exec'd receiver")
    socks.adopt(conn)
    fd = _open_scratch(ipc)
    socket.send_fds(conn, [b"fd"], [fd])
    report = _read_report(conn)
    result = receiver.result(timeout=5)
    assert result.exitcode == 0, f"expected the exec'd receiver to exit 0, it {result}"
    _check(fd, report, observe, "exec'd receiver")
