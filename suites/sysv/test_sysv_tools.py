"""sysv.tools: ipcs lists objects, ipcs -l shows limits, ipcrm removes."""
import errno
import shutil

import pytest

import sysv_helpers as sv
from fixtures import sysv
from fixtures.expect import fails_with

OPTION = {"msg": "-q", "sem": "-s", "shm": "-m"}


def _need(tool):
    if shutil.which(tool) is None:
        pytest.skip(f"needs util-linux's {tool} (not installed on this host)")


def _tool(spawn, argv):
    """The tool runs as a grandchild inside a spawn child's process group."""
    return spawn.run(sv.run_tool, argv, name=argv[0]).unwrap()


@pytest.mark.claim("sysv.tools")
@pytest.mark.parametrize("kind", sysv.KINDS)
def test_ipcs_lists_object(ipc, spawn, observe, kind):
    """ipcs -q/-s/-m shows a line with our object's key and id."""
    _need("ipcs")
    key = ipc.key()
    ident = sv.make(ipc, kind, key=key)
    status, out, err = _tool(spawn, ["ipcs", OPTION[kind]])
    assert status == 0, f"ipcs {OPTION[kind]} failed with status {status}: {err.strip()}"
    lines = [line.split() for line in out.splitlines()]
    ours = [f for f in lines if len(f) > 1 and f[0].lower() == f"{key:#010x}" and f[1] == str(ident)]
    observe("line", " ".join(ours[0]) if ours else None, run_specific=True)
    assert ours, f"expected ipcs {OPTION[kind]} to list key {key:#010x} id {ident}, it printed:\n{out}"


@pytest.mark.claim("sysv.tools")
def test_ipcs_limits(spawn, observe):
    """ipcs -l prints the message, shared memory and semaphore limits."""
    _need("ipcs")
    status, out, err = _tool(spawn, ["ipcs", "-l"])
    assert status == 0, f"ipcs -l failed with status {status}: {err.strip()}"
    limits = sv.parse_ipcs_limits(out)
    observe("ipcs_l", limits)
    missing = {"msgmni", "msgmax", "msgmnb", "shmmni", "semmni", "semmsl", "semmns", "semopm"} - set(limits)
    assert not missing, f"expected ipcs -l to show every limit, missing {sorted(missing)} in:\n{out}"


@pytest.mark.claim("sysv.tools")
@pytest.mark.parametrize("kind", sysv.KINDS)
def test_ipcrm_removes(ipc, spawn, observe, kind):
    """ipcrm -q/-s/-m ID removes our object: IPC_STAT on the id then fails with EINVAL."""
    _need("ipcrm")
    ident = sv.make(ipc, kind)
    status, out, err = _tool(spawn, ["ipcrm", OPTION[kind], str(ident)])
    observe("status", status)
    assert status == 0, f"expected ipcrm {OPTION[kind]} {ident} to succeed, status {status}: {err.strip()}"
    fails_with((errno.EINVAL, errno.EIDRM), sysv.stat, kind, ident,
               what=f"IPC_STAT on the {kind} id {ident} after ipcrm")
