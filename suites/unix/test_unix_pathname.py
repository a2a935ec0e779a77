"""unix.pathname: a UNIX socket's address is a file: bind() makes a socket file; binding an existing
path fails with EADDRINUSE; the file stays after close and connecting to it then fails with
ECONNREFUSED; an abstract address leaves no file and goes with its socket."""
import errno
import os
import stat

import pytest

from fixtures.expect import fails_with, succeeds
from fixtures.verdict import precondition
from unix_helpers import TYPES, abstract_name, socket_path


@pytest.mark.claim("unix.pathname")
@pytest.mark.parametrize("kind", list(TYPES))
def test_bind_makes_socket_file(kind, socks, observe):
    """bind() to a new path creates a file of type socket there."""
    _, path = socks.bound(kind)
    mode = os.lstat(path).st_mode
    observe("file type", stat.filemode(mode)[0])
    assert stat.S_ISSOCK(mode), f"expected a socket file at the bound path, lstat gave mode {oct(mode)}"


def _existing(how, socks, ipc):
    """A path that exists, made the way `how` says."""
    if how == "bound socket":
        return socks.bound("stream")[1]
    if how == "closed socket's file":
        sock, path = socks.bound("stream")
        sock.close()
        return path
    path = socket_path(ipc)
    with precondition("make a regular file at the socket path"):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return path


@pytest.mark.claim("unix.pathname")
@pytest.mark.parametrize("how", ["bound socket", "closed socket's file", "regular file"])
def test_bind_existing_path_eaddrinuse(how, socks, ipc, observe):
    """bind() to a path that already exists fails with EADDRINUSE, whatever file is there."""
    path = _existing(how, socks, ipc)
    err = fails_with(errno.EADDRINUSE, socks.new("stream").bind, path,
                     what=f"bind() to the path of a {how}")
    observe("errno", errno.errorcode[err.errno])


@pytest.mark.claim("unix.pathname")
@pytest.mark.parametrize("kind", list(TYPES))
def test_file_stays_after_close_connect_refused(kind, socks, observe):
    """After the bound socket is closed its file remains; connect() to it fails with ECONNREFUSED;
    once the file is unlinked the path can be bound again."""
    sock, path = socks.bound(kind)
    sock.close()
    stays = os.path.lexists(path) and stat.S_ISSOCK(os.lstat(path).st_mode)
    observe("socket file after close", stays)
    assert stays, f"expected the socket file to remain at {path} after close, it is gone"
    err = fails_with(errno.ECONNREFUSED, socks.new(kind).connect, path,
                     what=f"connect() to the file of a closed {kind} socket")
    observe("errno", errno.errorcode[err.errno])
    os.unlink(path)
    succeeds(socks.new(kind).bind, path, what="bind() to the path once its old file is unlinked")


@pytest.mark.claim("unix.pathname")
@pytest.mark.parametrize("kind", list(TYPES))
def test_abstract_address_leaves_no_file(kind, socks, ipc, observe):
    """An abstract address works for connect() without making any file, and is gone (ECONNREFUSED)
    once its socket closes."""
    before = sorted(os.listdir(ipc.dir))
    sock, name = socks.bound(kind, abstract_name(ipc))
    socks.new(kind).connect(name)
    after = sorted(os.listdir(ipc.dir))
    observe("getsockname starts with NUL", sock.getsockname()[:1] == b"\0")
    assert (sock.getsockname(), after) == (name, before), (
        f"expected the abstract address {name!r} as getsockname() and no new file; got "
        f"{sock.getsockname()!r}, files {after} (before {before})")
    sock.close()
    fails_with(errno.ECONNREFUSED, socks.new(kind).connect, name,
               what=f"connect() to the abstract address of a closed {kind} socket")
