"""pipe.unrelated, pipe.persistence: a pipe has no name, is reached only through a descriptor
(inherited, /proc/PID/fd/N or SCM_RIGHTS), and lives only while some process holds an end."""
from __future__ import annotations

import os
import socket

import pytest

from fixtures import libc
from fixtures.expect import succeeds
from fixtures.pipes import close_all, queued, read_exactly, read_to_eof

MESSAGE = b"through the pipe"


def _link(pid: int, fd: int) -> str:
    return os.readlink(f"/proc/{pid}/fd/{fd}")


def _mounted_devices() -> dict[str, str]:
    """{"major:minor": fstype} of every mount this process can see (/proc/self/mountinfo)."""
    out = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields, _, rest = line.partition(" - ")
            out[fields.split()[2]] = rest.split()[0]
    return out


@pytest.mark.claim("pipe.unrelated")
def test_no_name_to_open(spawn, channel, observe):
    """A pipe lives on no mounted file system: no path anywhere leads to it, so an unrelated
    process has nothing to open (pipe:[inode] in /proc/PID/fd is a label, not a path)."""
    r, w = os.pipe()
    try:
        st = os.fstat(r)
        link = _link(os.getpid(), r)
    finally:
        close_all(r, w)
    device = f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}"
    mounts = _mounted_devices()
    observe("link", link, run_specific=True)
    observe("inode", st.st_ino, run_specific=True)
    observe("pipefs_mounted", "pipefs" in mounts.values())
    assert link == f"pipe:[{st.st_ino}]", f"expected the fd link to read pipe:[{st.st_ino}], it reads {link!r}"
    assert device not in mounts and "pipefs" not in mounts.values(), (
        f"expected the pipe's file system (device {device}) to be mounted nowhere, mountinfo shows "
        f"{mounts.get(device, 'pipefs')} there: pipes would have paths")


def _proc_hidepid() -> str | None:
    """The hidepid= option of /proc as mounted here (None when other users' pids are visible)."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields, _, rest = line.partition(" - ")
            if fields.split()[4] == "/proc" and rest.split()[0] == "proc":
                opts = dict(o.partition("=")[::2] for o in rest.split()[2].split(","))
                hidepid = opts.get("hidepid")
                return hidepid if hidepid not in (None, "0", "off") else None
    return None


def _open_through_proc(to_child, ident):
    pid, fd = to_child.recv(5, what="test process")
    try:
        reopened = os.open(f"/proc/{pid}/fd/{fd}", os.O_RDONLY)
    except OSError as exc:
        return {"uid": ident(), "errno": libc.errno_name(exc.errno)}
    try:
        return {"uid": ident(), "errno": None, "data": read_exactly(reopened, len(MESSAGE)),
                "inode": os.fstat(reopened).st_ino}
    finally:
        os.close(reopened)


@pytest.mark.claim("pipe.unrelated")
@pytest.mark.parametrize("who", ["same-uid", "other-uid"])
def test_proc_fd_opens_it(spawn, channel, privilege, observe, who):
    """Linux exception: /proc/PID/fd/N opens another process's pipe for a process allowed to inspect it (EACCES otherwise)."""
    to_child = channel()
    if who == "same-uid":
        child = spawn(_open_through_proc, to_child, os.getuid, name="unrelated process")
    else:
        child = privilege.spawn_as(_open_through_proc, to_child, os.getuid)
    r, w = os.pipe()  # made after the fork: the child never inherited it
    try:
        libc.write(w, MESSAGE)
        to_child.send((os.getpid(), r))
        got = child.value(5)
        ino = os.fstat(r).st_ino
    finally:
        close_all(r, w)
    observe("opener_uid", got["uid"])
    observe("proc_fd_open", got["errno"] or "opened")
    if who == "same-uid":
        assert got["errno"] is None, (f"expected a same-uid process to open /proc/PID/fd/N, "
                                      f"it got {got['errno']}")
        assert (got["data"], got["inode"]) == (MESSAGE, ino), (
            f"expected the reopened fd to be pipe inode {ino} holding {MESSAGE!r}, "
            f"it was inode {got['inode']} holding {got['data']!r}")
    else:
        # with /proc mounted hidepid=, another user's /proc/PID is not even there
        refusal = "ENOENT" if _proc_hidepid() else "EACCES"
        observe("proc_hidepid", _proc_hidepid())
        assert got["errno"] == refusal, (
            f"expected uid {got['uid']} to be refused /proc/{os.getpid()}/fd/{r} of another "
            f"user's process with {refusal}, it got {got['errno'] or 'the pipe'}")


def _receive_by_scm_rights(path, ident):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(path)
        _, fds, _, _ = socket.recv_fds(sock, 16, 1)
    try:
        return {"uid": ident(), "data": read_exactly(fds[0], len(MESSAGE)),
                "inode": os.fstat(fds[0]).st_ino}
    finally:
        close_all(*fds)


@pytest.mark.claim("pipe.unrelated")
@pytest.mark.parametrize("who", ["same-uid", "other-uid"])
def test_scm_rights_passes_it(spawn, privilege, ipc, observe, who):
    """Linux exception: an end sent with SCM_RIGHTS over a UNIX socket works in a process that never inherited it."""
    path = ipc.path("sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(path)
        os.chmod(path, 0o777)  # the second uid must be able to connect
        listener.listen(1)
        listener.settimeout(5)
        if who == "same-uid":
            child = spawn(_receive_by_scm_rights, path, os.getuid, name="unrelated receiver")
        else:
            child = privilege.spawn_as(_receive_by_scm_rights, path, os.getuid)
        conn, _ = listener.accept()
        r, w = os.pipe()  # made after the fork
        try:
            with conn:
                socket.send_fds(conn, [b"fd"], [r])
            libc.write(w, MESSAGE)
            got = child.value(5)
            ino = os.fstat(r).st_ino
        finally:
            close_all(r, w)
    observe("receiver_uid", got["uid"])
    observe("received_inode", got["inode"], run_specific=True)
    assert (got["data"], got["inode"]) == (MESSAGE, ino), (
        f"expected the received fd to be pipe inode {ino} carrying {MESSAGE!r}, "
        f"it was inode {got['inode']} carrying {got['data']!r}")


def _creator(to_parent, gate_r, gate_w):
    """Make a pipe, put data in it, report where it is, then wait for the parent's word and exit."""
    os.close(gate_w)
    r, w = os.pipe()
    libc.write(w, b"kept")
    to_parent.send((os.getpid(), r, os.fstat(r).st_ino))
    libc.read(gate_r, 1)  # returns at EOF, when the parent closes its end of the gate
    return "exiting"


@pytest.mark.claim("pipe.persistence")
def test_outlives_its_creator_while_held(spawn, channel, observe):
    """A pipe whose creator has exited still holds its data for a process that kept an end open."""
    to_parent = channel()
    gate_r, gate_w = os.pipe()
    creator = spawn(_creator, to_parent, gate_r, gate_w, name="creator")
    os.close(gate_r)
    held = None
    try:
        pid, fd, ino = to_parent.recv(5, what="creator")
        held = succeeds(os.open, f"/proc/{pid}/fd/{fd}", os.O_RDONLY,
                        what="opening the creator's read end through /proc")
        os.close(gate_w)
        gate_w = None
        assert creator.value(5) == "exiting"
        # The creator is gone (reaped), and with it the only write end: read the data, then EOF.
        data = read_to_eof(held, what="a pipe whose writer exited")
        held_ino = os.fstat(held).st_ino
    finally:
        close_all(*(fd for fd in (held, gate_w) if fd is not None))
    observe("creator_inode", ino, run_specific=True)
    observe("data_after_creator_exit", data.decode())
    assert (data, held_ino) == (b"kept", ino), (
        f"expected pipe inode {ino} to keep b'kept' after its creator exited, "
        f"the holder's end is inode {held_ino} and read {data!r}")


def _holder(to_parent, to_child):
    r, w = os.pipe()
    libc.write(w, b"kept")
    to_parent.send((os.getpid(), r, w, os.fstat(r).st_ino))
    to_child.recv(5, what="test process (close)")
    close_all(r, w)
    to_parent.send("closed")
    to_child.recv(10, what="test process (exit)")  # stays alive until the test is done


def _reopen_and_count(path_fd: int) -> int:
    """Open the pipe inode behind an O_PATH descriptor for reading (O_NONBLOCK): the bytes queued
    in the pipe it opens onto (FIONREAD, so nothing is taken out)."""
    fd = os.open(f"/proc/self/fd/{path_fd}", os.O_RDONLY | os.O_NONBLOCK)
    try:
        return queued(fd)
    finally:
        os.close(fd)


@pytest.mark.claim("pipe.persistence")
def test_nothing_left_after_last_close(spawn, channel, observe):
    """Once its only holder closes both ends, the pipe's data is gone: the inode, still reachable
    through an O_PATH descriptor, opens onto an empty pipe, though the holder still runs."""
    to_parent, to_child = channel(), channel()
    holder = spawn(_holder, to_parent, to_child, name="holder")
    pid, r, w, ino = to_parent.recv(5, what="holder")
    # O_PATH keeps the inode, not the pipe: no end is held by it.
    path_fd = os.open(f"/proc/{pid}/fd/{r}", os.O_PATH)
    try:
        while_held = _reopen_and_count(path_fd)
        to_child.send("close")
        assert to_parent.recv(5, what="holder") == "closed"
        after_close = _reopen_and_count(path_fd)
        same_inode = os.fstat(path_fd).st_ino == ino
    finally:
        os.close(path_fd)
    alive = holder.alive()
    to_child.send("exit")
    observe("holder_inode", ino, run_specific=True)
    observe("queued_while_held", while_held)
    observe("queued_after_last_close", after_close)
    assert while_held == len(b"kept") and same_inode, (
        f"expected the O_PATH reopen of pipe inode {ino} to find b'kept' (4 bytes) queued while "
        f"held, it found {while_held}")
    assert after_close == 0 and alive, (
        f"expected nothing left in the pipe once its last end closed (holder alive: {alive}), "
        f"the reopened inode still has {after_close} bytes queued")
