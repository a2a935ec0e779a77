"""Every claim here needs AF_UNIX sockets: a kernel without CONFIG_UNIX refuses socket(AF_UNIX)
with EAFNOSUPPORT, and the claims are not applicable."""
import errno
import socket

import pytest

from fixtures import facility
from unix_helpers import Sockets


def _probe():
    socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()


@pytest.fixture(autouse=True)
def _needs_af_unix():
    facility.require("AF_UNIX sockets", "CONFIG_UNIX", _probe,
                     absent_errnos=(errno.EAFNOSUPPORT, errno.ENOSYS))


@pytest.fixture
def socks(ipc):
    """The test's UNIX sockets (Sockets), closed at teardown."""
    made = Sockets(ipc)
    try:
        yield made
    finally:
        made.close()
