"""Self-tests of the leak guard: a run that leaves anything behind fails loudly and is cleaned."""
import os

import pytest

from fixtures import leaks, libc
from tests.scratch import make_suite, run

LEAKY = '''
import os
import subprocess
import pytest
import sysv_ipc
from fixtures import ipc as ipcmod

@pytest.mark.claim("demo.holds")
def test_leaves_things_behind(ipc):
    sysv_ipc.MessageQueue(ipc.key(), sysv_ipc.IPC_CREX)          # made but never adopted
    os.mkfifo(os.path.join(ipcmod.run_dir(), "stray-fifo"))       # outside the test's dir
    subprocess.Popen(["sleep", "60"], start_new_session=True)    # escapes the process group
'''

TIMEOUT = '''
import os
import pytest

@pytest.mark.claim("demo.holds")
@pytest.mark.timeout(1)
def test_times_out(spawn):
    child = spawn(os.read, os.pipe()[0], 1, name="reader")
    child.wait_blocked("read")
    child.result(timeout=30)
'''


FOREIGN = '''
import os
import subprocess
import sys
import pytest
from fixtures import libc

@pytest.mark.claim("demo.holds")
def test_foreign_and_own_private_objects(spawn, tmp_path):
    # another process, not of this run (no token in its environment, not forked by spawn)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPCC_")}
    out = subprocess.run([sys.executable, "-c", "from fixtures import libc; "
                          "print(libc.shmget(0, 4096, 0o1600))"], env=env, check=True,
                         capture_output=True, text=True, cwd=os.environ["IPCC_ROOT"]).stdout
    with open(os.environ["IPCC_FOREIGN_FILE"], "w") as f:
        f.write(out.strip())
    # a child of the run that makes one and never hands it to the ipc fixture
    spawn(libc.shmget, 0, 4096, 0o1600).value()
'''


@pytest.mark.timeout(180)  # whole pytest runs in subprocesses: slow on a busy machine
def test_foreign_private_objects_neither_fail_nor_are_touched(pytester, monkeypatch, foreign_note):
    """An IPC_PRIVATE segment another process makes during the run is not the run's; one a
    spawned child makes and leaves is (serial and -n 2 alike)."""
    monkeypatch.setenv("IPCC_ROOT", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    monkeypatch.setenv("IPCC_FOREIGN_FILE", str(foreign_note))
    suites = make_suite(pytester, FOREIGN)
    for args in ((), ("-n", "2")):
        result, record = run(pytester, monkeypatch, suites, *args)
        foreign = int(foreign_note.read_text())
        try:
            ids = [leak.get("id") for leak in record["leaks"]]
            assert foreign not in ids, record["leaks"]
            assert len(record["leaks"]) == 1 and "IPC_PRIVATE, made or used by the run's" in \
                record["leaks"][0]["what"], record["leaks"]
            assert result.ret == 1
            assert leaks.sysv_key("sysv_shm", foreign) == 0, "the foreign segment was touched"
        finally:
            libc.shmctl_rmid(foreign)
            foreign_note.unlink()


@pytest.fixture
def foreign_note(pytester):
    """Where the inner run notes the foreign segment's id; the segment is removed at teardown,
    also when the test is stopped half-way (a timeout)."""
    note = pytester.path / "foreign-shmid"
    yield note
    if note.exists():
        try:
            libc.shmctl_rmid(int(note.read_text()))
        except (OSError, ValueError):
            pass


def test_leaks_fail_the_session_and_are_removed(pytester, monkeypatch):
    result, record = run(pytester, monkeypatch, make_suite(pytester, LEAKY))
    assert result.ret == 1, "a leaky run must fail"
    kinds = sorted(leak["kind"] for leak in record["leaks"])
    assert kinds == ["path", "process", "sysv_msg"], record["leaks"]
    result.stdout.fnmatch_lines(["LEAK*sysv_msg*", "LEAK*stray-fifo*", "LEAK*sleep 60*",
                                 "*outlived the run: the session fails*"])
    queue = next(leak["id"] for leak in record["leaks"] if leak["kind"] == "sysv_msg")
    assert ("sysv_msg", queue) not in leaks.sysv_objects(), "the leaked queue was not removed"
    pid = next(leak["pid"] for leak in record["leaks"] if leak["kind"] == "process")
    assert not os.path.exists(f"/proc/{pid}/cmdline") or open(f"/proc/{pid}/stat").read().split(
        ")")[-1].split()[0] in "ZX", "the leaked process was not killed"


def test_a_timed_out_test_leaves_no_child(pytester, monkeypatch):
    result, record = run(pytester, monkeypatch, make_suite(pytester, TIMEOUT))
    assert record["claims"][0]["verdict"] == "error"
    assert "Timeout" in record["claims"][0]["reason"]
    assert record["leaks"] == [], record["leaks"]
