"""Run the conformance suite under gVisor (``runsc do``), then compare with the host.

    python -m tools.sandbox.runsc [options] [-- PYTEST-ARGS ...]      (./ipcc sandbox runsc)

runsc comes from Debian's bookworm-backports (package ``runsc``, a static Go
binary), fetched with a private apt configuration as tools.kernels.fetch does
(``tools/sandbox/apt/sources.list``; /etc/apt and /var/lib/apt stay as they are)
and unpacked into ``<cache>/runsc-<version>/`` (default
``/var/tmp/ipc-conformance/sandbox``, ``$IPC_SANDBOX_CACHE``, ``--cache``);
``--runsc PATH`` uses another binary.

``runsc do`` gives the command the host's file system read-only under a tmpfs
overlay that is discarded at exit, so the record cannot be written to a host
path: ``tools.sandbox.inside`` runs pytest inside with its console on stderr and
streams the record directory out as a tar on stdout.  The two are separate
pipes (gVisor gives two descriptors of one host file separate offsets, so
``>log 2>&1`` interleaves badly).  Which runsc flags work is found by probe
boots of ``runsc do true``: ``--network=none`` always (no iptables needed), then
``--ignore-cgroups`` and ``--rootless`` (the only way as non-root) as needed.

Writes ``OUT/record.json`` (with ktap.txt, junit.xml, allure-results/),
``OUT/console.log`` (the suite's console inside), ``OUT/sandbox.json`` (runsc
version, flags, pytest's exit status or signal, the last test), runs the host's
suite into ``OUT/../host/record.json`` unless ``--host-record`` names one, and
``OUT/comparison.md`` / ``.txt`` with the host as the baseline.

Exit status follows the suite's under gVisor: 0 every verdict fine, 1 claims
violated (or errors), 2 the run could not be made (one line on stderr naming
why: no runsc, no probe worked, pytest crashed or hung inside, no record).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Sequence

from tools.kernels import fetch
from tools.kernels import run as kernels_run
from tools.sandbox import inside

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parents[1]
SOURCES_LIST = HERE / "apt" / "sources.list"
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
DEFAULT_CACHE = Path(os.environ.get("IPC_SANDBOX_CACHE", "/var/tmp/ipc-conformance/sandbox"))
DEFAULT_OUT = PROJECT / "reports" / "out" / "sandbox" / "runsc"
DEFAULT_PYTEST_ARGS = ["-n", "auto"]
DEFAULT_TIMEOUT = 1800          # the whole suite inside; measured here: 130 s with -n auto
PROBE_TIMEOUT = 60             # `runsc do true` takes about 1 s here
LISTS_MAX_AGE = 24 * 3600       # re-read the package lists once a day
BASE_FLAGS = ["--network=none"]
# Tried in order until `runsc do true` works; non-root starts at the rootless ones.
FLAG_LADDER = ([], ["--ignore-cgroups"], ["--rootless"], ["--rootless", "--ignore-cgroups"])
PYTEST_EXITS = {2: "interrupted", 3: "internal error", 4: "usage error", 5: "no tests collected"}


class SetupError(Exception):
    """The run could not be made; str() is the one line shown to the user."""


def say(msg: str) -> None:
    print(f"ipcc sandbox: {msg}", file=sys.stderr, flush=True)


def last_line(text: str | bytes) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


# --------------------------------------------------------------------------
# Fetching runsc
# --------------------------------------------------------------------------

def parse_version(show_output: str) -> str | None:
    """The newest ``Version:`` of ``apt-cache show runsc`` (apt lists the candidate first)."""
    for line in show_output.splitlines():
        if line.startswith("Version: "):
            return line.split(None, 1)[1].strip()
    return None


def unpacked_binary(cache: Path, version: str) -> Path:
    return cache / f"runsc-{version.replace('~', '_').replace(':', '_')}" / "usr" / "bin" / "runsc"


def apt_setting(opts: Sequence[str], key: str) -> str | None:
    """The value of ``-o KEY=VALUE`` in apt options."""
    for opt in opts:
        if opt.startswith(key + "="):
            return opt.split("=", 1)[1]
    return None


def lists_fresh(lists_dir: Path, now: float | None = None) -> bool:
    lists = list(lists_dir.glob("*Packages*"))
    if not lists:
        return False
    age = (time.time() if now is None else now) - max(p.stat().st_mtime for p in lists)
    return age < LISTS_MAX_AGE


def _apt(cmd: list[str], what: str, runner: Callable = subprocess.run, **kw) -> str:
    try:
        done = runner(cmd, capture_output=True, text=True, **kw)
    except FileNotFoundError:
        raise SetupError(f"{cmd[0]} not found: fetching runsc needs Debian's apt and dpkg "
                         "(or give --runsc PATH)") from None
    if done.returncode != 0:
        raise SetupError(f"{what} failed (exit {done.returncode}): {last_line(done.stderr)}")
    return done.stdout


def fetch_runsc(cache: Path, *, update: bool | None = None, runner: Callable = subprocess.run,
                keyring: Path = KEYRING) -> tuple[Path, str]:
    """(path of the runsc binary, its Debian version), downloading it when not cached.

    update None: re-read the package lists when they are missing or a day old."""
    if not keyring.is_file():
        raise SetupError(f"{keyring} is missing: the private apt sources are signed by it "
                         "(apt-get install debian-archive-keyring), or give --runsc PATH")
    cache.mkdir(parents=True, exist_ok=True)
    fetch.prepare_apt_dirs(cache)
    opts = fetch.apt_options(cache, sources=SOURCES_LIST) + ["-o", "APT::Sandbox::User=root"]
    lists_dir = Path(apt_setting(opts, "Dir::State::lists") or cache / "apt" / "lists")
    if update or (update is None and not lists_fresh(lists_dir)):
        say("reading bookworm-backports' package list (private apt configuration)")
        _apt(["apt-get", *opts, "-q", "update"], "apt-get update (private sources)", runner)
    version = parse_version(_apt(["apt-cache", *opts, "show", "runsc"],
                                 "apt-cache show runsc", runner))
    if version is None:
        raise SetupError(f"no runsc package in the private apt sources ({SOURCES_LIST})")
    binary = unpacked_binary(cache, version)
    if binary.is_file():
        return binary, version
    debs = cache / "debs"
    debs.mkdir(exist_ok=True)
    for old in debs.glob("runsc_*.deb"):
        old.unlink()
    say(f"downloading runsc {version}")
    _apt(["apt-get", *opts, "-q", "download", f"runsc={version}"], "apt-get download runsc",
         runner, cwd=debs)
    found = sorted(debs.glob("runsc_*.deb"))
    if not found:
        raise SetupError(f"apt-get download runsc left no runsc_*.deb in {debs}")
    root = binary.parents[2]
    tmp = root.with_name(root.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    _apt(["dpkg-deb", "-x", str(found[-1]), str(tmp)], "dpkg-deb -x runsc", runner)
    tmp.rename(root)
    if not binary.is_file():
        raise SetupError(f"the runsc package has no usr/bin/runsc ({found[-1].name})")
    return binary, version


# --------------------------------------------------------------------------
# Finding the flags that work here
# --------------------------------------------------------------------------

def runsc_command(runsc: Path, state: Path, flags: Sequence[str], command: Sequence[str],
                  cwd: Path) -> list[str]:
    return [str(runsc), f"--root={state}", *BASE_FLAGS, *flags,
            "do", "-quiet", f"-cwd={cwd}", *command]


def candidate_flags(euid: int, extra: Sequence[str] = ()) -> list[list[str]]:
    ladder = FLAG_LADDER if euid == 0 else [f for f in FLAG_LADDER if "--rootless" in f]
    return [list(extra) + f for f in ladder]


def probe_flags(runsc: Path, state: Path, candidates: Sequence[Sequence[str]],
                runner: Callable = kernels_run.run_bounded) -> list[str]:
    """The first flag set with which ``runsc do true`` works; SetupError naming why none did.

    A probe that hangs (a platform that never starts here, e.g. --platform=kvm nested) ends
    the search: the other flag sets do not change the platform, and each would hang too."""
    failures = []
    for flags in candidates:
        shown = " ".join(flags) or "(no extra flags)"
        done = runner(runsc_command(runsc, state, flags, ["true"], Path("/")), PROBE_TIMEOUT)
        if done.returncode == 0:
            return list(flags)
        if done.timed_out:
            before = f" (before: {'; '.join(failures)})" if failures else ""
            raise SetupError(f"runsc do true with {shown} did not exit within {PROBE_TIMEOUT} s "
                             f"and was killed: does its platform start here?{before}")
        if done.returncode == 127 and not failures:
            raise SetupError(f"cannot run {runsc}: {last_line(done.output)}")
        failures.append(f"{shown}: exit {done.returncode}, {last_line(done.output)}")
    raise SetupError("runsc do true failed with every flag set tried: " + "; ".join(failures))


def runsc_version(runsc: Path, runner: Callable = subprocess.run) -> str:
    try:
        done = runner([str(runsc), "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return done.stdout.splitlines()[0].strip() if done.stdout.strip() else "unknown"


# --------------------------------------------------------------------------
# The run inside, and what comes out of it
# --------------------------------------------------------------------------

class Sandboxed:
    """What came out of one ``runsc do``: exit status, the stdout bytes, stderr's tail."""

    def __init__(self, returncode: int | None, stdout: bytes, stderr_tail: str,
                 timed_out: bool, elapsed: float):
        self.returncode, self.stdout, self.stderr_tail = returncode, stdout, stderr_tail
        self.timed_out, self.elapsed = timed_out, elapsed


def run_sandboxed(cmd: Sequence[str], timeout: float, log: Path, cwd: Path,
                  echo: Callable[[str], None] | None = None) -> Sandboxed:
    """Run cmd with stdout and stderr as two pipes: stdout collected, stderr echoed and
    logged line by line; the process group is killed after timeout."""
    start = time.monotonic()
    proc = subprocess.Popen(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, cwd=cwd, start_new_session=True)
    out = io.BytesIO()
    tail: list[str] = []

    def collect() -> None:
        assert proc.stdout is not None
        shutil.copyfileobj(proc.stdout, out)

    def tee() -> None:
        assert proc.stderr is not None
        with open(log, "w", encoding="utf-8", errors="replace") as logf:
            for raw in iter(proc.stderr.readline, b""):
                line = raw.decode("utf-8", "replace")
                logf.write(line)
                logf.flush()
                tail[:] = (tail + [line])[-20:]
                if echo:
                    echo(line.rstrip("\n"))

    readers = [threading.Thread(target=f, daemon=True) for f in (collect, tee)]
    for r in readers:
        r.start()
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        kernels_run._kill_group(proc)
    except BaseException:
        # Ctrl-C: the sandbox is in a session of its own, which the terminal's SIGINT misses
        kernels_run._kill_group(proc)
        raise
    for r in readers:
        r.join(timeout=30)
    return Sandboxed(None if timed_out else proc.returncode, out.getvalue(), "".join(tail),
                     timed_out, time.monotonic() - start)


class StreamError(Exception):
    """What came out on stdout is not the complete tar; str() says how."""


def unpack(stream: bytes, outdir: Path) -> dict:
    """Extract the tar that tools.sandbox.inside wrote and return its status; StreamError
    when the stream is empty or cut short (the sandbox died before or while writing it)."""
    if not stream:
        raise StreamError("nothing came out on stdout")
    try:
        with tarfile.open(fileobj=io.BytesIO(stream), mode="r:") as tar:
            members = tar.getmembers()
            for m in members:
                parts = Path(m.name).parts
                if m.name.startswith("/") or ".." in parts or not (m.isfile() or m.isdir()):
                    raise tarfile.TarError(f"unexpected member {m.name!r}")
            for m in members:
                target = outdir / m.name
                if m.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                src = tar.extractfile(m)
                assert src is not None
                target.write_bytes(src.read())
    except (tarfile.TarError, EOFError) as exc:
        raise StreamError(f"{len(stream)} bytes on stdout are not a complete tar ({exc})") from None
    status = outdir / inside.STATUS_NAME
    if not status.is_file():
        raise StreamError(f"the tar on stdout ({len(stream)} bytes) has no {inside.STATUS_NAME}")
    return json.loads(status.read_text())


def verdict(done: Sandboxed, status: dict | None, record: Path, timeout: float,
            last_test: str | None = None, stream_error: str = "") -> tuple[int, str]:
    """(exit status, one line) for one sandboxed run; status None: stream_error says why."""
    if done.timed_out:
        where = f"; last test started: {last_test}" if last_test else ""
        return 2, f"no result from the sandbox within {timeout:.0f} s{where}; killed"
    if status is None:
        rc = done.returncode
        how = (f"died of {signal.Signals(rc - 128).name}"
               if rc is not None and 128 < rc < 128 + 65 else f"exited {rc}")
        return 2, (f"runsc {how} before the results came out of the sandbox "
                   f"({stream_error or 'no status'}): {last_line(done.stderr_tail)}")
    test = status.get("last_test")
    if status.get("signal"):
        during = (f"while running {test}" if test and not status.get("last_test_finished")
                  else f"after {test}" if test else "before any test started")
        rerun = f" (re-run with -- --deselect '{test}' to judge the rest)" \
            if test and not status.get("last_test_finished") else ""
        return 2, (f"pytest died of {status['signal']} inside gVisor {during}; "
                   f"no record was written{rerun}")
    code = status.get("pytest_exit")
    if code in PYTEST_EXITS:
        return 2, (f"pytest exited {code} ({PYTEST_EXITS[code]}) inside gVisor: "
                   f"{last_line(done.stderr_tail)}")
    if not record.is_file():
        return 2, (f"pytest exited {code} inside gVisor but wrote no record: "
                   f"{last_line(done.stderr_tail)}")
    counts = json.loads(record.read_text()).get("summary", {})
    shown = ", ".join(f"{k} {v}" for k, v in counts.items() if isinstance(v, int))
    if code == 0:
        return 0, f"record {record} ({shown})"
    if code == 1:
        return 1, f"record {record} ({shown}): claims violated under gVisor"
    return 2, f"pytest exited {code} inside gVisor"


# What a run writes into OUT; only these are removed before the next run (never OUT itself).
OUTPUTS = ("record.json", "ktap.txt", "junit.xml", "allure-results", "console.log", "sandbox.json",
           inside.STATUS_NAME, inside.LAST_TEST_NAME, "stdout.bin", "comparison.md",
           "comparison.txt")


def clear_outputs(out: Path) -> None:
    """Remove the previous run's files, so that a stale record never passes for this run's."""
    out.mkdir(parents=True, exist_ok=True)
    for name in OUTPUTS:
        path = out / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()


def mark_record(record: Path, sandbox: dict) -> None:
    """Say in the record's host facts that the run was sandboxed: inside, gVisor looks like a
    Linux 4.4 in a container, and nothing else in the record tells the two apart."""
    data = json.loads(record.read_text())
    if isinstance(data.get("host"), dict):
        data["host"]["sandbox"] = sandbox
        record.write_text(json.dumps(data, indent=1, default=str) + "\n")


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="./ipcc sandbox runsc",
                                description="The conformance suite under gVisor (runsc do), "
                                            "compared with the host.")
    p.add_argument("--runsc", type=Path, help="use this runsc binary instead of fetching one")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                   help=f"where runsc is fetched to (default {DEFAULT_CACHE}; $IPC_SANDBOX_CACHE)")
    p.add_argument("--no-update", action="store_true",
                   help="never re-read the package lists (offline, with a cached runsc)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help=f"the gVisor run's files (default {DEFAULT_OUT}); the host's go to OUT/../host")
    host = p.add_mutually_exclusive_group()
    host.add_argument("--host-record", type=Path,
                      help="the host's record to compare with, instead of running the host suite")
    host.add_argument("--no-host", action="store_true", help="no host run, no comparison")
    p.add_argument("--runsc-flag", action="append", default=[], metavar="FLAG",
                   help="a runsc flag to add, with '=' (--runsc-flag=--platform=kvm); repeatable")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                   help=f"bound for the suite inside, seconds (default {DEFAULT_TIMEOUT})")
    p.add_argument("--python", type=Path, help="interpreter inside (default: the project's venv)")
    p.add_argument("--commit", metavar="REV",
                   help="run this commit of the project (git archive into a copy) instead of the "
                        "working tree, on the host and under gVisor")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    own, pytest_args = kernels_run.split_argv(sys.argv[1:] if argv is None else argv)
    try:
        args = parser().parse_args(own)
    except SystemExit as exc:
        return 0 if exc.code == 0 else 2
    pytest_args = DEFAULT_PYTEST_ARGS if pytest_args is None else pytest_args
    try:
        return run(args, pytest_args)
    except SetupError as exc:
        say(f"error: {exc}")
        return 2
    except OSError as exc:      # a cache or output directory this user cannot write, a full disk
        say(f"error: {exc.filename or ''}: {exc.strerror or exc}".replace("error: : ", "error: "))
        return 2


def run(args: argparse.Namespace, pytest_args: list[str]) -> int:
    python = (args.python or kernels_run.default_python(PROJECT)).absolute()
    if not python.exists():
        raise SetupError(f"{python}: no such interpreter (./ipcc setup makes the venv)")
    if args.runsc:
        runsc, version = args.runsc.absolute(), None
        if not runsc.is_file():
            raise SetupError(f"{runsc}: no such file")
    else:
        runsc, version = fetch_runsc(args.cache.absolute(),
                                     update=False if args.no_update else None)
    version = runsc_version(runsc) if version is None else version
    out = args.out.absolute()
    clear_outputs(out)
    if not args.commit:
        return run_from(PROJECT, args, pytest_args, python, runsc, version, out)
    # A work tree others are editing is not always a consistent project: run a commit's copy,
    # host and gVisor alike (python -m pytest puts the working directory first on sys.path, so
    # the venv's editable install yields to the copy).
    sha = subprocess.run(["git", "-C", str(PROJECT), "rev-parse", "--verify", "-q",
                          f"{args.commit}^{{commit}}"], capture_output=True, text=True)
    if sha.returncode != 0:
        raise SetupError(f"--commit {args.commit}: no such commit in {PROJECT}")
    args.commit = sha.stdout.strip()
    from tools.userspace.run import copy_project   # only for --commit: the userspace runner's copy

    tree = Path(tempfile.mkdtemp(prefix="ipcc-sandbox-tree-"))
    here = os.getcwd()
    try:
        copy_project(PROJECT, tree, commit=args.commit)
        say(f"running commit {args.commit[:12]} from a copy in {tree}")
        os.chdir(tree)
        return run_from(tree, args, pytest_args, python, runsc, version, out)
    finally:
        os.chdir(here)
        shutil.rmtree(tree, ignore_errors=True)


def run_from(project: Path, args: argparse.Namespace, pytest_args: list[str], python: Path,
             runsc: Path, version: str, out: Path) -> int:
    """The gVisor run, the host run and the comparison, with the suite taken from project."""
    state = Path(tempfile.mkdtemp(prefix="ipcc-runsc-state-"))
    try:
        flags = probe_flags(runsc, state, candidate_flags(os.geteuid(), args.runsc_flag))
        say(f"runsc {version} ({runsc}) works here with: {' '.join(BASE_FLAGS + flags)}")
        cmd = runsc_command(runsc, state, flags, [str(python), "-m", "tools.sandbox.inside",
                                                   *pytest_args], project)
        say("running the suite under gVisor: " + " ".join(cmd))
        done = run_sandboxed(cmd, args.timeout, out / "console.log", project,
                             echo=lambda line: print(line, file=sys.stderr, flush=True))
    finally:
        shutil.rmtree(state, ignore_errors=True)
    status, stream_error = None, ""
    try:
        status = unpack(done.stdout, out)
    except StreamError as exc:
        stream_error = str(exc)
        (out / "stdout.bin").write_bytes(done.stdout)
    record = out / "record.json"
    code, line = verdict(done, status, record, args.timeout, stream_error=stream_error)
    sandbox = {"runtime": "gVisor", "runner": "runsc do", "version": version,
               "flags": BASE_FLAGS + flags, "commit": args.commit}
    if record.is_file():
        mark_record(record, sandbox)
    (out / "sandbox.json").write_text(json.dumps(dict(
        sandbox, binary=str(runsc), pytest_args=pytest_args, runsc_exit=done.returncode,
        elapsed_s=round(done.elapsed, 1), status=status, outcome=line), indent=1) + "\n")
    say(line)
    if code == 2 or args.no_host:
        return code
    host = args.host_record.absolute() if args.host_record else \
        kernels_run.run_host(python, project, out.parent, pytest_args)
    if host is None or not host.is_file():
        say(f"no host record ({host}): comparison skipped")
        return code
    # (the host run and the comparison are tools.kernels.run's, whose lines say "kernels:")
    cmp_status = kernels_run.compare(python, project, [host, record], out)
    if cmp_status == 2:
        say("the comparison failed (see above)")
    else:
        say(f"done: host {host} vs gVisor {record}: {out / 'comparison.md'} (reports.compare "
            f"exit {cmp_status}; this command's exit {code} follows the suite under gVisor)")
    return code


if __name__ == "__main__":
    sys.exit(main())
