"""Helpers of the POSIX message queue claims: queues made under the run's names, the
fs/mqueue limits read from the kernel, and children in private namespaces.

The calls themselves are fixtures.mqueue (shared with other suites).
"""
from __future__ import annotations

import errno
import os
import resource
import signal

import pytest

from fixtures import libc, mqueue, signals
from fixtures.kernel import KERNEL, has_capability
from fixtures.verdict import variant

CREATE = os.O_CREAT | os.O_EXCL | os.O_RDWR


def limit(name: str) -> int:
    """fs.mqueue.<name> of this process's IPC namespace, from /proc/sys/fs/mqueue (where that
    is absent, the documented default, said in the claim's reason: fixtures.kernel)."""
    return KERNEL.limit(f"fs/mqueue/{name}")


def small(maxmsg: int = 4, msgsize: int = 64) -> tuple[int, int]:
    """(maxmsg, msgsize) no larger than msg_max and msgsize_max allow without privilege."""
    return min(maxmsg, limit("msg_max")), min(msgsize, limit("msgsize_max"))


class Queue:
    def __init__(self, name: str, mqd: int):
        self.name, self.mqd = name, mqd

    def send(self, data: bytes, prio: int = 0) -> None:
        mqueue.mq_send(self.mqd, data, prio)

    def receive(self, size: int | None = None) -> tuple[bytes, int]:
        return mqueue.mq_receive(self.mqd, size or self.attr().mq_msgsize)

    def attr(self):
        return mqueue.mq_getattr(self.mqd)

    def curmsgs(self) -> int:
        return self.attr().mq_curmsgs


class Queues:
    """The queues and descriptors of one test (the `mq` fixture)."""

    def __init__(self, ipc):
        self.ipc = ipc
        self._open: list[int] = []

    def create(self, maxmsg: int | None = None, msgsize: int | None = None,
               flags: int = 0, mode: int = 0o600) -> Queue:
        """A new queue (O_CREAT|O_EXCL|O_RDWR|flags) under a name of the run's, its mq_attr cut
        to what msg_max and msgsize_max allow (NULL when maxmsg is None). The name is adopted
        the moment the queue exists."""
        name = self.ipc.name()
        if maxmsg is not None:
            maxmsg, msgsize = small(maxmsg, msgsize or 64)
        mqd = mqueue.mq_open(name, CREATE | flags, mode, maxmsg, msgsize)
        self.ipc.adopt_posix("mq", name)
        self._open.append(mqd)
        return Queue(name, mqd)

    def open(self, name: str, flags: int = os.O_RDWR) -> Queue:
        """Another descriptor of an existing queue of this test's."""
        mqd = mqueue.mq_open(name, flags)
        self._open.append(mqd)
        return Queue(name, mqd)

    def forget(self, mqd: int) -> None:
        """The test closed mqd itself."""
        if mqd in self._open:
            self._open.remove(mqd)

    def close(self, q: Queue) -> None:
        mqueue.mq_close(q.mqd)
        self.forget(q.mqd)

    def close_all(self) -> None:
        for mqd in reversed(self._open):
            try:
                mqueue.mq_close(mqd)
            except OSError:
                pass
        self._open.clear()


def drain(mqd: int, size: int) -> list[tuple[bytes, int]]:
    """Every message left on a queue, taken with O_NONBLOCK set for the duration."""
    old = mqueue.mq_setattr(mqd, mqueue.attr(flags=os.O_NONBLOCK))
    got = []
    try:
        while True:
            try:
                got.append(mqueue.mq_receive(mqd, size))
            except OSError as exc:
                if exc.errno != errno.EAGAIN:
                    raise
                return got
    finally:
        mqueue.mq_setattr(mqd, mqueue.attr(flags=old.mq_flags))


# -- children in private namespaces -----------------------------------------------------------

def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def unshare_namespaces(ipc_ns: bool = False, mount_ns: bool = False,
                       keep_caps: bool | None = None) -> str:
    """In a (forked, single-threaded) child: new IPC and/or mount namespaces, made with this
    process's own capabilities (keep_caps; default: when it holds CAP_SYS_ADMIN) or inside a
    new user namespace, where no capability of the initial one applies (no CAP_SYS_RESOURCE
    exemption). A new mount namespace is made private first. Returns which were made; a
    refusal raises OSError."""
    flags = (libc.CLONE_NEWIPC if ipc_ns else 0) | (libc.CLONE_NEWNS if mount_ns else 0)
    names = [n for n, on in (("IPC", ipc_ns), ("mount", mount_ns)) if on]
    if keep_caps is None:
        keep_caps = has_capability("CAP_SYS_ADMIN")
    if keep_caps:
        libc.unshare(flags)
    else:
        uid, gid = os.geteuid(), os.getegid()
        libc.unshare(libc.CLONE_NEWUSER | flags)
        # the queue files of the new IPC namespace need this uid mapped in it (else EOVERFLOW)
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
        names.insert(0, "user")
    if mount_ns:
        libc.mount("none", "/", None, libc.MS_REC | libc.MS_PRIVATE)
    return "+".join(names) + " namespaces" + (" (own capabilities)" if keep_caps else "")


def _in_namespaces(spaces: dict, func, args):
    try:
        how = unshare_namespaces(**spaces)
    except OSError as exc:
        return "refused", f"{getattr(exc, 'call', 'unshare')}: {libc.errno_name(exc.errno)}"
    return how, func(*args)


def in_namespaces(spawn, func, *args, ipc_ns: bool = False, mount_ns: bool = False,
                  keep_caps: bool | None = None, timeout: float = 10.0) -> tuple[str, object]:
    """(how, func(*args)) run in a child inside new namespaces (unshare_namespaces). Skips,
    with the reason, where the kernel or the privilege refuses them: the host's own IPC
    namespace is never filled and its /dev/mqueue never mounted. Queues made in a private IPC
    namespace die with the child."""
    spaces = {"ipc_ns": ipc_ns, "mount_ns": mount_ns, "keep_caps": keep_caps}
    how, value = spawn.run(_in_namespaces, spaces, func, args, timeout=timeout,
                           name="child in private namespaces").unwrap()
    if how == "refused":
        wanted = "+".join(n for n, on in (("IPC", ipc_ns), ("mount", mount_ns)) if on)
        caps = "has" if has_capability("CAP_SYS_ADMIN") else "lacks"
        pytest.skip(f"needs private {wanted} namespaces, which this process could not make "
                    f"({value}; it {caps} CAP_SYS_ADMIN, and unprivileged user namespaces may be "
                    "disabled: user.max_user_namespaces, a sandbox)")
    return how, value


def in_private_ipc(spawn, func, *args, keep_caps: bool = False, timeout: float = 10.0):
    """func(*args) in a child inside a new IPC namespace (of a new user namespace unless
    keep_caps); see in_namespaces."""
    return in_namespaces(spawn, func, *args, ipc_ns=True, keep_caps=keep_caps, timeout=timeout)[1]


def mount_mqueue(target: str) -> str:
    """Mount an mqueue file system on `target` (a directory of the test's own, so nothing is
    left on the host; the mount is in the child's private mount namespace only)."""
    libc.mount("mqueue", target, "mqueue", 0)
    return target


def fill_queues(prefix: str, count: int) -> list[int]:
    """Make `count` tiny queues (maxmsg 1, msgsize 1) named prefix-N; their descriptors."""
    return [mqueue.mq_open(f"{prefix}-{i}", CREATE, 0o600, 1, 1) for i in range(count)]


def set_rlimit(which: int, soft: int) -> None:
    """Lower the soft limit (always allowed on Linux: the hard limit stays). A kernel that
    refuses even that (gVisor sets no RLIMIT_MSGQUEUE) leaves the case that needs it not run."""
    with variant(f"lowering rlimit {which} to {soft} for this case"):
        try:
            resource.setrlimit(which, (soft, resource.getrlimit(which)[1]))
        except ValueError as exc:  # CPython's words for the kernel's EPERM
            raise OSError(errno.EPERM, f"setrlimit({which}, {soft}): {exc}") from exc


def libc_name() -> str:
    """'glibc 2.36', or '' when the C library is not glibc (musl has no CS_GNU_LIBC_VERSION)."""
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        return ""


# -- notification -----------------------------------------------------------------------------

# A real-time signal: notifications queue, so every one the kernel sent can be counted.
NOTIFY_SIGNAL = signal.SIGRTMIN + 1

def wait_siginfo(signo: int, timeout: float) -> dict | None:
    """sigtimedwait(2) for the blocked signal `signo`, up to `timeout` s: its si_code, si_pid,
    si_uid and si_value (the sigval as a pointer: the signal module drops it), or None."""
    info = signals.sigtimedwait([signo], timeout)
    if info is None:
        return None
    return {"si_code": info["code"], "si_pid": info["pid"], "si_uid": info["uid"],
            "si_value": info["value"]}


def _notifiee(name, signo, value, commands, report):
    """Child: register for SIGEV_SIGNAL(signo) on the queue with signo blocked, then answer
    commands: ("count", wait) the notifications received (waiting up to `wait` s for the
    first), ("register",) / ("unregister",) mq_notify again or with NULL, ("stop",)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, [signo])
    mqd = mqueue.mq_open(name, os.O_RDONLY)
    mqueue.mq_notify(mqd, mqueue.sigevent_signal(signo, value))
    report.send(("registered", os.getpid()))
    while True:
        cmd = commands.recv(timeout=10, what="the test's next command")
        if cmd[0] == "stop":
            return "stopped"
        if cmd[0] == "count":
            got, wait = [], cmd[1]
            while (info := wait_siginfo(signo, wait if not got else 0)) is not None:
                got.append(info)
            report.send(got)
        elif cmd[0] in ("register", "unregister"):
            ev = mqueue.sigevent_signal(signo, value) if cmd[0] == "register" else None
            try:
                mqueue.mq_notify(mqd, ev)
                report.send(None)
            except OSError as exc:
                report.send(exc.errno)


class Notifiee:
    """A child process registered for SIGEV_SIGNAL notification on a queue (`_notifiee`)."""

    def __init__(self, spawn, channel, name: str, value: int = 0x1234, signo: int = NOTIFY_SIGNAL):
        self._commands, self._report = channel(), channel()
        self.child = spawn(_notifiee, name, signo, value, self._commands, self._report,
                           name="registered process")
        _, self.pid = self._report.recv(timeout=5, what="the registered process")

    def _ask(self, *cmd, timeout: float = 5):
        self._commands.send(cmd)
        return self._report.recv(timeout=timeout, what="the registered process")

    def notifications(self, wait: float = 0.0) -> list[dict]:
        """The notification signals received since the last call (waiting up to `wait` s for
        the first: the kernel sends it inside mq_send, so 0 suffices where none is due)."""
        return self._ask("count", wait, timeout=wait + 5)

    def register(self) -> int | None:
        """mq_notify again: None on success, else the errno."""
        return self._ask("register")

    def unregister(self) -> int | None:
        return self._ask("unregister")

    def stop(self) -> None:
        self._commands.send(("stop",))
        self.child.value(timeout=5)
