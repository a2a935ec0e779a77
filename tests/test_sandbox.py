"""Self-tests of tools.sandbox (./ipcc sandbox runsc) with apt and runsc mocked: no network,
no gVisor.  A fake ``runsc`` (a small script) stands in for the real one so that the
subprocess, pipe and tar paths run for real, in milliseconds."""

from __future__ import annotations

import functools
import io
import json
import os
import signal
import shutil
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from tools.sandbox import inside, runsc

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------
# fetching runsc with the private apt configuration
# --------------------------------------------------------------------------

SHOW = "Package: runsc\nVersion: 0.0~20240729.0-4~bpo12+2\nArchitecture: amd64\n\n"


class FakeApt:
    """Answers apt-get/apt-cache/dpkg-deb like Debian's tools would, and logs each call."""

    def __init__(self, fail: str | None = None):
        self.calls: list[list[str]] = []
        self.fail = fail

    def __call__(self, cmd, capture_output=True, text=True, cwd=None, **kw):
        self.calls.append(list(cmd))
        tool = cmd[0]
        if self.fail and self.fail in cmd:
            return subprocess.CompletedProcess(cmd, 100, "", "E: Unable to fetch some archives\n")
        if tool == "apt-get" and cmd[-1] == "update":
            lists = Path(runsc.apt_setting(cmd, "Dir::State::lists"))
            (lists / "deb.debian.org_debian_dists_bookworm-backports_main_binary-amd64_Packages").touch()
        elif tool == "apt-get" and "download" in cmd:
            (Path(cwd) / "runsc_0.0~20240729.0-4~bpo12+2_amd64.deb").write_bytes(b"!<arch>")
        elif tool == "apt-cache":
            return subprocess.CompletedProcess(cmd, 0, SHOW, "")
        elif tool == "dpkg-deb":
            binary = Path(cmd[-1]) / "usr" / "bin" / "runsc"
            binary.parent.mkdir(parents=True)
            binary.write_text("#!/bin/sh\n")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    def tools(self) -> list[str]:
        return [c[0] + (" " + c[-1] if c[0] == "apt-get" else "") for c in self.calls]


@pytest.fixture
def keyring(tmp_path):
    path = tmp_path / "debian-archive-keyring.gpg"
    path.write_bytes(b"keys")
    return path


def test_fetch_uses_only_the_private_apt_world(tmp_path, keyring):
    apt = FakeApt()
    binary, version = runsc.fetch_runsc(tmp_path / "cache", runner=apt, keyring=keyring)
    assert version == "0.0~20240729.0-4~bpo12+2"
    assert binary.is_file() and binary.is_relative_to(tmp_path / "cache")
    for call in apt.calls:
        if call[0] in ("apt-get", "apt-cache"):
            assert runsc.apt_setting(call, "Dir::Etc::sourcelist") == str(runsc.SOURCES_LIST)
            for key in ("Dir::State::lists", "Dir::State::status", "Dir::Cache"):
                assert runsc.apt_setting(call, key).startswith(str(tmp_path / "cache")), (key, call)
    assert "bookworm-backports" in runsc.SOURCES_LIST.read_text()


def test_fetch_reuses_the_cache_without_downloading(tmp_path, keyring):
    runsc.fetch_runsc(tmp_path / "cache", runner=FakeApt(), keyring=keyring)
    again = FakeApt()
    runsc.fetch_runsc(tmp_path / "cache", runner=again, keyring=keyring)
    assert again.tools() == ["apt-cache"]          # fresh lists, unpacked binary: no update, no download


def test_fetch_without_the_keyring_names_the_package(tmp_path):
    with pytest.raises(runsc.SetupError, match="apt-get install debian-archive-keyring"):
        runsc.fetch_runsc(tmp_path / "cache", runner=FakeApt(), keyring=tmp_path / "none.gpg")


def test_fetch_failure_is_one_line_with_apts_message(tmp_path, keyring):
    with pytest.raises(runsc.SetupError) as err:
        runsc.fetch_runsc(tmp_path / "cache", runner=FakeApt(fail="download"), keyring=keyring)
    assert str(err.value) == ("apt-get download runsc failed (exit 100): "
                              "E: Unable to fetch some archives")


def test_lists_older_than_a_day_are_read_again(tmp_path):
    lists = tmp_path / "lists"
    lists.mkdir()
    assert not runsc.lists_fresh(lists)
    (lists / "x_Packages").touch()
    assert runsc.lists_fresh(lists)
    assert not runsc.lists_fresh(lists, now=(lists / "x_Packages").stat().st_mtime + 2 * 86400)


# --------------------------------------------------------------------------
# finding the runsc flags that work here
# --------------------------------------------------------------------------

def answering(works_with):
    """A probe runner: works with those flags only, or fails everywhere (None), or hangs."""
    calls = []

    def runner(cmd, timeout):
        calls.append(cmd)
        extra = cmd[cmd.index(runsc.BASE_FLAGS[-1]) + 1:cmd.index("do")]
        if works_with is not None and extra == works_with:
            return SimpleNamespace(returncode=0, output="", timed_out=False)
        if works_with == "hang":
            return SimpleNamespace(returncode=None, output="", timed_out=True)
        return SimpleNamespace(returncode=128, output="Error: cannot set up cgroup\n",
                               timed_out=False)
    return runner, calls


def test_probe_takes_the_first_flag_set_that_works(tmp_path):
    runner, calls = answering(["--ignore-cgroups"])
    flags = runsc.probe_flags(Path("runsc"), tmp_path, runsc.candidate_flags(0), runner=runner)
    assert flags == ["--ignore-cgroups"]
    assert len(calls) == 2 and calls[0][-1] == "true"
    assert "--network=none" in calls[0] and f"--root={tmp_path}" in calls[0]


def test_non_root_tries_only_rootless():
    assert runsc.candidate_flags(1000) == [["--rootless"], ["--rootless", "--ignore-cgroups"]]
    assert runsc.candidate_flags(0, ["--platform=ptrace"])[0] == ["--platform=ptrace"]


def test_probe_failing_everywhere_says_what_each_try_gave(tmp_path):
    runner, _ = answering(None)
    with pytest.raises(runsc.SetupError) as err:
        runsc.probe_flags(Path("runsc"), tmp_path, runsc.candidate_flags(1000), runner=runner)
    assert str(err.value).count("cannot set up cgroup") == 2 and "--rootless:" in str(err.value)


def test_a_hanging_probe_ends_the_search(tmp_path):
    runner, calls = answering("hang")
    with pytest.raises(runsc.SetupError, match="did not exit within 60 s"):
        runsc.probe_flags(Path("runsc"), tmp_path, runsc.candidate_flags(0), runner=runner)
    assert len(calls) == 1


def test_probe_of_a_real_binary_that_is_not_runsc(tmp_path):
    """The real bounded runner: a binary that exits 1 at once is a failure with its output."""
    fake = tmp_path / "runsc"
    fake.write_text("#!/bin/sh\necho 'flag provided but not defined: -quiet' >&2\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(runsc.SetupError, match="flag provided but not defined"):
        runsc.probe_flags(fake, tmp_path, [[]])


# --------------------------------------------------------------------------
# inside the sandbox: the tar on stdout and the status beside the record
# --------------------------------------------------------------------------

def test_write_all_resumes_short_writes_and_eagain(monkeypatch):
    """gVisor returns after 64 KiB on a blocking host pipe: every byte must still go out."""
    sent, answers = [], iter([BlockingIOError(), 10, 7])

    def fake_write(fd, data):
        answer = next(answers, None)
        if isinstance(answer, Exception):
            raise answer
        n = len(data) if answer is None else min(answer, len(data))
        sent.append(bytes(data[:n]))
        return n

    monkeypatch.setattr(inside.os, "write", fake_write)
    monkeypatch.setattr(inside.select, "select", lambda r, w, x: (r, w, x))
    data = bytes(range(256)) * 600
    inside.write_all(1, data)
    assert b"".join(sent) == data
    assert max(len(chunk) for chunk in sent) <= inside.CHUNK


def make_outdir(path: Path, status: dict | None = None, record: dict | None = None) -> Path:
    path.mkdir()
    (path / "allure-results").mkdir()
    (path / "allure-results" / "x-result.json").write_text("{}")
    if record is not None:
        (path / "record.json").write_text(json.dumps(record))
    if status is not None:
        (path / inside.STATUS_NAME).write_text(json.dumps(status))
    return path


def tar_of(outdir: Path) -> bytes:
    r, w = os.pipe()
    buf = bytearray()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        inside.stream_tar(str(outdir), w)
        os._exit(0)
    os.close(w)
    while chunk := os.read(r, 1 << 16):
        buf += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return bytes(buf)


def test_stream_and_unpack_round_trip(tmp_path):
    status = inside.status_of(1, "suites/x.py::t", True, 3.0)
    stream = tar_of(make_outdir(tmp_path / "in", status, {"schema": 1}))
    got = runsc.unpack(stream, tmp_path / "out")
    assert got == status
    assert (tmp_path / "out" / "allure-results" / "x-result.json").read_text() == "{}"
    assert json.loads((tmp_path / "out" / "record.json").read_text()) == {"schema": 1}


def test_a_stream_cut_short_is_named(tmp_path):
    stream = tar_of(make_outdir(tmp_path / "in", {"pytest_exit": 0}, {"schema": 1}))
    with pytest.raises(runsc.StreamError, match="no sandbox-status.json|not a complete tar"):
        runsc.unpack(stream[:1536], tmp_path / "out")
    with pytest.raises(runsc.StreamError, match="nothing came out"):
        runsc.unpack(b"", tmp_path / "out2")


def test_unpack_refuses_paths_outside_the_directory(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("../escaped")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(runsc.StreamError, match="unexpected member"):
        runsc.unpack(buf.getvalue(), tmp_path / "out")
    assert not (tmp_path / "escaped").exists()


def test_status_names_the_signal_and_the_last_test(tmp_path, monkeypatch):
    monkeypatch.setenv(inside.LAST_TEST_ENV, str(tmp_path / "last"))
    inside.pytest_runtest_logstart("suites/sysvmsg/test_e2big.py::t", None)
    nodeid, finished = inside.read_last_test(str(tmp_path / "last"))
    status = inside.status_of(-signal.SIGSEGV, nodeid, finished, 1.0)
    assert status["signal"] == "SIGSEGV" and status["pytest_exit"] is None
    assert status["last_test"] == "suites/sysvmsg/test_e2big.py::t" and not finished
    inside.pytest_runtest_logfinish("suites/sysvmsg/test_e2big.py::t", None)
    assert inside.read_last_test(str(tmp_path / "last"))[1] is True


def test_inside_keeps_stdout_for_the_tar():
    cmd = inside.suite_command("/tmp/o", ["-n", "auto"])
    assert cmd[-1] == "--record=/tmp/o/record.json" and "tools.sandbox.inside" in cmd


# --------------------------------------------------------------------------
# the outcome line and exit status
# --------------------------------------------------------------------------

def done(returncode=0, timed_out=False, tail=""):
    return runsc.Sandboxed(returncode, b"", tail, timed_out, 1.0)


def with_record(tmp_path, summary):
    record = tmp_path / "record.json"
    record.write_text(json.dumps({"summary": summary}))
    return record


@pytest.mark.parametrize("status,code,words", [
    ({"pytest_exit": 0}, 0, "holds 3"),
    ({"pytest_exit": 1}, 1, "claims violated under gVisor"),
    ({"pytest_exit": 3}, 2, "pytest exited 3 (internal error)"),
    ({"pytest_exit": None, "signal": "SIGSEGV", "last_test": "suites/a.py::t",
      "last_test_finished": False}, 2, "pytest died of SIGSEGV inside gVisor while running suites/a.py::t"),
    ({"pytest_exit": None, "signal": "SIGKILL", "last_test": None}, 2, "before any test started"),
], ids=["all-fine", "violated", "internal-error", "segfault-in-a-test", "killed-at-start"])
def test_verdict_follows_the_suite(tmp_path, status, code, words):
    record = with_record(tmp_path, {"holds": 3, "violated": int(code == 1)})
    got, line = runsc.verdict(done(), status, record, 60)
    assert got == code and words in line
    assert "\n" not in line


def test_verdict_without_a_status(tmp_path):
    record = tmp_path / "record.json"
    code, line = runsc.verdict(done(139, tail="boot: panic\n"), None, record, 60,
                               stream_error="nothing came out on stdout")
    assert code == 2 and "runsc died of SIGSEGV" in line and "boot: panic" in line
    code, line = runsc.verdict(done(None, timed_out=True), None, record, 60)
    assert code == 2 and "within 60 s" in line
    code, line = runsc.verdict(done(tail="tomllib.TOMLDecodeError: Unterminated string\n"),
                               {"pytest_exit": 1}, record, 60)
    assert code == 2 and line.endswith("wrote no record: tomllib.TOMLDecodeError: Unterminated string")


# --------------------------------------------------------------------------
# the whole command, with a fake runsc
# --------------------------------------------------------------------------

FAKE_RUNSC = textwrap.dedent('''\
    #!{python}
    """Fake runsc: `do true` works unless FAKE_RUNSC_MODE says otherwise; the suite's run
    writes the tar in FAKE_RUNSC_TAR on stdout, console lines on stderr."""
    import os, sys
    args = sys.argv[1:]
    mode = os.environ.get("FAKE_RUNSC_MODE", "")
    with open(os.environ["FAKE_RUNSC_LOG"], "a") as log:
        log.write(repr(args) + "\\n")
    if args == ["--version"]:
        print("runsc version fake"); sys.exit(0)
    if args[-1] == "true":
        sys.exit(0)
    print("collected 3 items", file=sys.stderr, flush=True)
    if mode == "hang":
        import time; time.sleep(60)
    if mode == "crash":
        print("panic: sentry fell over", file=sys.stderr)
        sys.exit(139)
    os.write(1, open(os.environ["FAKE_RUNSC_TAR"], "rb").read())
    sys.exit(0)
''')


@pytest.fixture
def fake(tmp_path, monkeypatch):
    binary = tmp_path / "runsc"
    binary.write_text(FAKE_RUNSC.format(python=sys.executable))
    binary.chmod(0o755)
    log = tmp_path / "runsc.log"
    log.touch()
    monkeypatch.setenv("FAKE_RUNSC_LOG", str(log))
    record = {"schema": 1, "host": {"kernel_release": "4.4.0"}, "claims": [],
              "summary": {"holds": 2, "violated": 1}}
    stream = tar_of(make_outdir(tmp_path / "made", {"pytest_exit": 1, "signal": None}, record))
    (tmp_path / "stream.tar").write_bytes(stream)
    monkeypatch.setenv("FAKE_RUNSC_TAR", str(tmp_path / "stream.tar"))
    compared = []
    monkeypatch.setattr(runsc.kernels_run, "run_host",
                        lambda python, project, out, args: pytest.fail("no host run expected"))
    monkeypatch.setattr(runsc.kernels_run, "compare",
                        lambda python, project, records, out: compared.append(records) or 1)
    host = tmp_path / "host.json"
    host.write_text("{}")
    return SimpleNamespace(binary=binary, log=log, out=tmp_path / "out", host=host,
                           compared=compared)


def run_main(fake, *extra):
    return runsc.main(["--runsc", str(fake.binary), "--out", str(fake.out),
                       "--host-record", str(fake.host), "--python", sys.executable, *extra])


def test_main_brings_the_record_out_and_compares(fake, capsys):
    assert run_main(fake, "--", "-k", "pipe") == 1
    record = json.loads((fake.out / "record.json").read_text())
    assert record["host"]["sandbox"]["runtime"] == "gVisor"
    assert (fake.out / "allure-results" / "x-result.json").is_file()
    assert "collected 3 items" in (fake.out / "console.log").read_text()
    assert fake.compared == [[fake.host, fake.out / "record.json"]]
    suite_call = [eval(l) for l in fake.log.read_text().splitlines()][-1]
    assert suite_call[-4:] == ["-m", "tools.sandbox.inside", "-k", "pipe"]
    assert "-quiet" in suite_call and f"-cwd={runsc.PROJECT}" in suite_call
    assert "claims violated under gVisor" in capsys.readouterr().err


def test_main_says_so_when_the_sandbox_dies(fake, capsys, monkeypatch):
    monkeypatch.setenv("FAKE_RUNSC_MODE", "crash")
    assert run_main(fake) == 2
    err = capsys.readouterr().err
    assert "runsc died of SIGSEGV before the results came out" in err
    assert "panic: sentry fell over" in err
    assert fake.compared == []
    assert json.loads((fake.out / "sandbox.json").read_text())["runsc_exit"] == 139


def test_main_without_an_interpreter_is_a_setup_failure(fake, tmp_path, capsys):
    assert runsc.main(["--runsc", str(fake.binary), "--python", str(tmp_path / "nope")]) == 2
    assert "no such interpreter" in capsys.readouterr().err


def test_ipcc_sandbox_needs_the_runtime_name():
    got = subprocess.run(["bash", str(ROOT / "ipcc"), "sandbox"], capture_output=True, text=True)
    assert got.returncode == 2 and "./ipcc sandbox runsc" in got.stderr


def test_an_unwritable_cache_is_one_line(fake, tmp_path, capsys, keyring, monkeypatch):
    monkeypatch.setattr(runsc, "fetch_runsc", functools.partial(runsc.fetch_runsc, keyring=keyring))
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    assert runsc.main(["--cache", str(blocked / "cache"), "--python", sys.executable]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ipcc sandbox: error: ") and "cache" in err[0]


def test_a_stale_record_never_passes_for_this_runs(fake, monkeypatch):
    fake.out.mkdir()
    (fake.out / "record.json").write_text('{"stale": true}')
    (fake.out / "notes.txt").write_text("mine")
    monkeypatch.setenv("FAKE_RUNSC_MODE", "crash")
    assert run_main(fake) == 2
    assert not (fake.out / "record.json").exists()
    assert (fake.out / "notes.txt").read_text() == "mine"       # only the tool's own files go


def test_a_hung_sandbox_is_killed_and_named(fake, capsys, monkeypatch):
    monkeypatch.setenv("FAKE_RUNSC_MODE", "hang")
    assert run_main(fake, "--timeout", "1") == 2
    assert "no result from the sandbox within 1 s; killed" in capsys.readouterr().err


def test_a_commit_runs_from_a_copy_that_is_removed_after(fake):
    try:
        head = subprocess.run(["git", "-C", str(runsc.PROJECT), "rev-parse", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("the checkout is not a git repository git will read here (no git, no .git, "
                    "or another owner's directory)")
    assert run_main(fake, "--commit", "HEAD") == 1
    suite_call = [eval(l) for l in fake.log.read_text().splitlines()][-1]
    cwd = Path(next(a for a in suite_call if a.startswith("-cwd="))[len("-cwd="):])
    assert cwd != runsc.PROJECT and cwd.name.startswith("ipcc-sandbox-tree-") and not cwd.exists()
    assert json.loads((fake.out / "sandbox.json").read_text())["commit"] == head


def test_an_unknown_commit_is_one_line(fake, capsys):
    if shutil.which("git") is None:
        pytest.skip("needs git to look the commit up (a userspace without git says so itself)")
    assert run_main(fake, "--commit", "no-such-rev") == 2
    assert "--commit no-such-rev: no such commit" in capsys.readouterr().err


def test_an_interrupted_run_kills_the_sandbox(tmp_path, monkeypatch):
    """The sandbox runs in a session of its own: Ctrl-C must not leave it running."""
    killed = []
    monkeypatch.setattr(runsc.kernels_run, "_kill_group", lambda proc: killed.append(proc.pid)
                        or proc.kill() or proc.wait())
    real_wait = subprocess.Popen.wait

    def interrupted(self, timeout=None):
        if timeout is not None and timeout > 1:
            raise KeyboardInterrupt
        return real_wait(self, timeout)

    monkeypatch.setattr(subprocess.Popen, "wait", interrupted)
    with pytest.raises(KeyboardInterrupt):
        runsc.run_sandboxed(["sleep", "30"], 60, tmp_path / "console.log", tmp_path)
    assert len(killed) == 1
