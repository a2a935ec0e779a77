"""Run the conformance suite under other kernels with virtme-ng, then compare.

    python -m tools.kernels.run [options] [KERNEL ...] [-- PYTEST-ARGS ...]

KERNEL is a vmlinuz whose modules sit beside it in ``lib/modules/<release>``,
as ``dpkg-deb -x`` of a Debian ``linux-image-*-unsigned`` package leaves them
(``ROOT/boot/vmlinuz-<release>`` and ``ROOT/lib/modules/<release>``), or such
an unpacked ROOT directory.  ``python -m tools.kernels.fetch`` makes them; with no
KERNEL the runner fetches Debian's 5.10, 6.1 and 6.12 itself (``--cache``).

For each kernel, one at a time, virtme-ng boots it with the host's file system
shared read-only, runs the suite inside with the project's venv interpreter
(by absolute path: the guest sees the host's /usr), and the suite writes that
kernel's record into ``OUT/<release>/`` (a ``--rwdir``).  The host's own run
goes to ``OUT/host/`` (or ``--host-record`` names an existing record).  At the
end ``python -m reports.compare`` compares the host's record (the baseline)
with every kernel's and writes ``OUT/comparison.md`` and ``OUT/comparison.txt``.

KVM is used when a tiny probe boot under KVM succeeds; otherwise the runner says
so and falls back to ``--disable-kvm`` (QEMU TCG, much slower).  Each boot is
bounded by ``--timeout``; a kernel that fails to boot, times out or leaves no
record gets one ``FAILED`` line and the others still run.

Exit status: 0 when every kernel produced a record and the comparison found no
unexplained regression, 1 when a kernel failed or the comparison exited 1,
2 for bad arguments or a missing tool.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterable, Sequence

from tools.kernels import fetch

PROJECT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = PROJECT / "reports" / "out" / "kernels"
DEFAULT_PYTEST_ARGS = ["-n", "auto"]
# Per-boot bounds (seconds): boot + suite + power-off.
DEFAULT_TIMEOUT_KVM = 900
DEFAULT_TIMEOUT_TCG = 3600
# Until the guest's first line (boot): measured here 21-43 s under TCG, 46-49 s when busy.
DEFAULT_BOOT_TIMEOUT_KVM = 120
DEFAULT_BOOT_TIMEOUT_TCG = 300
PROBE_TIMEOUT = 90
TCG_TEST_TIMEOUT = 300                  # pytest-timeout per test under TCG (the ini says 30 s)
# Host paths virtme-ng hides from the guest behind fresh tmpfs mounts: an interpreter or
# project there is "not found" inside the guest.
GUEST_HIDDEN = ("/var/tmp", "/var/cache", "/var/log", "/var/lib/apt", "/var/lib/private", "/run")
GUEST_MARK = "ipc-conformance-guest:"   # the guest prints "<mark> up <release>" first thing
EXIT_MARK = "ipc-conformance-guest: pytest exit "


def say(msg: str) -> None:
    print(f"kernels: {msg}", flush=True)


# --------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------

@dataclasses.dataclass
class KernelImage:
    vmlinuz: Path
    release: str
    root: Path            # directory holding lib/modules/<release> (and boot/)
    moddir: Path | None   # ROOT/lib/modules/<release> when present

    @property
    def bootdir(self) -> Path | None:
        boot = self.root / "boot"
        return boot if (boot / f"config-{self.release}").exists() else None


class KernelError(ValueError):
    pass


def resolve_kernel(arg: str | os.PathLike) -> KernelImage:
    """A KernelImage from a vmlinuz path or an unpacked package root; KernelError if neither."""
    path = Path(arg).expanduser()
    if path.is_dir():
        images = sorted((path / "boot").glob("vmlinuz-*")) or sorted(path.glob("vmlinuz-*"))
        if not images:
            raise KernelError(f"{arg}: directory without boot/vmlinuz-*")
        path = images[-1]
    if not path.is_file():
        raise KernelError(f"{arg}: no such kernel image")
    path = path.resolve()
    release = None
    m = re.match(r"(?:vmlinuz|bzImage|vmlinux)-(.+)$", path.name)
    if m:
        release = m.group(1)
    # Modules "beside" the image: in the image's directory or one or two levels up
    # (dpkg-deb -x leaves ROOT/boot/vmlinuz-R next to ROOT/lib/modules/R).
    for root in (path.parent, path.parent.parent, path.parent.parent.parent):
        mods = root / "lib" / "modules"
        if release and (mods / release).is_dir():
            return KernelImage(path, release, root, mods / release)
        if release is None and mods.is_dir():
            found = sorted(p for p in mods.iterdir() if p.is_dir())
            if len(found) == 1:
                return KernelImage(path, found[0].name, root, found[0])
    if release is None:
        raise KernelError(f"{arg}: cannot tell the kernel release (name it vmlinuz-<release> "
                          "or put its modules in lib/modules/<release> beside it)")
    return KernelImage(path, release, path.parent, None)


# --------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------

def guest_script(python: Path, project: Path, outdir: Path, pytest_args: Sequence[str],
                 release: str) -> str:
    """The /bin/sh command the guest runs (virtme-ng --exec)."""
    record = outdir / "record.json"
    # --record=PATH: with a space, an existing PATH would be taken for a test path
    pytest = [str(python), "-m", "pytest", "-p", "no:cacheprovider", *pytest_args,
              f"--record={record}"]
    q = shlex.quote
    return "; ".join([
        f'echo "{GUEST_MARK} up $(uname -r)"',
        # virtme-ng does not mount the POSIX message queue file system; the host has it.
        "mkdir -p /dev/mqueue && mount -t mqueue mqueue /dev/mqueue 2>/dev/null",
        # virtme-ng points /dev/stdout (and stdin, stderr) at its virtio console ports, so
        # `[ -p /dev/stdout ]` in a child whose stdout is a pipe is false; restore the
        # usual /proc/self/fd links (the guest's /dev is its own devtmpfs).
        "ln -sfn /proc/self/fd/0 /dev/stdin; ln -sfn /proc/self/fd/1 /dev/stdout; "
        "ln -sfn /proc/self/fd/2 /dev/stderr",
        # /tmp is a writable overlay in the guest (upper on tmpfs); the rwdir is 9p, where
        # FIFOs and sockets would behave unlike a local file system.
        f"export TMPDIR=/tmp PYTHONDONTWRITEBYTECODE=1 IPCC_GUEST_KERNEL={q(release)}",
        f"cd {q(str(project))}",
        " ".join(q(a) for a in pytest),
        "rc=$?",
        f'echo "{EXIT_MARK}$rc"',
        "exit $rc",
    ])


def hidden_in_guest(path: Path) -> str | None:
    """The GUEST_HIDDEN prefix that hides path from the guest, or None."""
    text = str(path)
    for prefix in GUEST_HIDDEN:
        if text == prefix or text.startswith(prefix + "/"):
            return prefix
    return None


def with_test_timeout(pytest_args: Sequence[str], kvm: bool) -> list[str]:
    """Under TCG every test runs several times slower: widen pytest-timeout unless the
    caller chose a timeout."""
    args = list(pytest_args)
    if not kvm and not any(a == "--timeout" or a.startswith("--timeout=") for a in args):
        args.append(f"--timeout={TCG_TEST_TIMEOUT}")
    return args


def vng_command(vng: str, kernel: KernelImage, script: str, outdir: Path, *, kvm: bool,
                memory: str, cpus: int, project: Path) -> list[str]:
    cmd = [vng, "--run", str(kernel.vmlinuz), "--memory", memory, "--cpus", str(cpus),
           "--rwdir", str(outdir), "--cwd", str(project), "--name", "ipcc-guest"]
    if kernel.bootdir:
        # /boot/config-<release> for the record's kconfig (Debian kernels have no /proc/config.gz).
        cmd += ["--rodir", f"/boot={kernel.bootdir}"]
    if not kvm:
        cmd.append("--disable-kvm")
    cmd += ["--exec", script]
    return cmd


def tool_env(vng: str) -> dict[str, str]:
    """vng calls virtme-run and depmod by name: put vng's directory and sbin on PATH."""
    env = dict(os.environ)
    parts = [str(Path(vng).parent)] + env.get("PATH", "").split(os.pathsep) + ["/usr/sbin", "/sbin"]
    seen, path = set(), []
    for p in parts:
        if p and p not in seen:
            seen.add(p)
            path.append(p)
    env["PATH"] = os.pathsep.join(path)
    return env


# virtme-ng-init (the guest's init) starts udevd from the host's tree at one of these paths.
UDEVD_PATHS = ("/usr/lib/systemd/systemd-udevd", "/lib/systemd/systemd-udevd")


def missing_host_tools(vng: str) -> list[str]:
    """What vng needs on the host and cannot find, each as "tool (Debian package)".

    Without busybox virtme-ng builds no initramfs and every boot fails, under KVM first,
    where it would pass for a KVM problem.  Without udevd the guest has no
    /dev/virtio-ports links, virtme-ng-init falls back to the console, and the command's
    output and exit status never reach vng's stdout (the guest seems never to start).
    Say either up front instead."""
    path = tool_env(vng)["PATH"]
    qemu = f"qemu-system-{os.uname().machine}"
    wanted = [(("busybox-static", "busybox.static", "busybox"), "busybox (busybox-static)"),
              ((qemu,), f"{qemu} (qemu-system-x86)" if qemu.endswith("x86_64") else qemu),
              (("depmod",), "depmod (kmod)")]
    missing = [label for names, label in wanted
               if not any(shutil.which(n, path=path) for n in names)]
    if not any(os.path.exists(p) for p in UDEVD_PATHS):
        missing.append("systemd-udevd (udev)")
    return missing


# --------------------------------------------------------------------------
# Running with a bound
# --------------------------------------------------------------------------

@dataclasses.dataclass
class Completed:
    returncode: int | None   # None when killed by the timeout
    output: str
    elapsed: float
    timed_out: bool
    mark_s: float | None = None   # seconds until the first line containing `mark`
    mark_missed: bool = False     # killed because `mark` did not come within mark_timeout


def run_bounded(cmd: Sequence[str], timeout: float, *, env: dict | None = None,
                log: Path | None = None, echo: Callable[[str], None] | None = None,
                mark: str | None = None, mark_timeout: float | None = None) -> Completed:
    """Run cmd with stdout+stderr piped (never a regular file: QEMU reopens its
    output), echo and log each line, and kill its whole process group after timeout,
    or after mark_timeout when no line containing mark has come by then (a guest that
    never boots: QEMU sits in the firmware forever on an image it cannot load)."""
    start = time.monotonic()
    lines: list[str] = []
    seen: list[float] = []
    logf = open(log, "w", encoding="utf-8", errors="replace") if log else None
    try:
        proc = subprocess.Popen(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    except OSError as exc:
        if logf:
            logf.close()
        return Completed(127, f"{cmd[0]}: {exc}\n", 0.0, False)

    def pump() -> None:
        assert proc.stdout is not None
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace")
            lines.append(line)
            if mark and not seen and mark in line:
                seen.append(time.monotonic() - start)
            if logf:
                logf.write(line)
                logf.flush()
            if echo:
                echo(line.rstrip("\n"))

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    timed_out = mark_missed = False
    deadline = start + timeout
    mark_deadline = start + mark_timeout if mark and mark_timeout is not None else None
    while True:
        until = deadline if mark_deadline is None or seen else min(deadline, mark_deadline)
        try:
            proc.wait(timeout=max(until - time.monotonic(), 0))
            break
        except subprocess.TimeoutExpired:
            before_deadline = time.monotonic() < deadline
            if seen and before_deadline:
                continue                      # the mark came: only the overall bound is left
            timed_out, mark_missed = True, before_deadline
            _kill_group(proc)
            break
    reader.join(timeout=10)
    if logf:
        logf.close()
    return Completed(None if timed_out else proc.returncode, "".join(lines),
                     time.monotonic() - start, timed_out, seen[0] if seen else None,
                     mark_missed)


def _kill_group(proc: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


# --------------------------------------------------------------------------
# KVM
# --------------------------------------------------------------------------

def kvm_accessible(dev: str = "/dev/kvm") -> bool:
    return os.path.exists(dev) and os.access(dev, os.R_OK | os.W_OK)


def probe_kvm(vng: str, kernel: KernelImage, runner=run_bounded) -> tuple[bool, str]:
    """(usable, why): whether a tiny KVM boot of kernel runs `true` to completion.
    /dev/kvm existing is not enough: nested or restricted KVM often cannot boot a stock kernel."""
    if not kvm_accessible():
        return False, "/dev/kvm is absent or not readable and writable"
    cmd = [vng, "--run", str(kernel.vmlinuz), "--memory", "512M", "--cpus", "1",
           "--exec", f'echo "{GUEST_MARK} probe"']
    done = runner(cmd, PROBE_TIMEOUT, env=tool_env(vng))
    if done.returncode == 0 and f"{GUEST_MARK} probe" in done.output:
        return True, f"KVM probe boot took {done.elapsed:.0f} s"
    if done.timed_out:
        return False, f"KVM probe boot did not finish in {PROBE_TIMEOUT} s"
    last = [l for l in done.output.splitlines() if l.strip()][-1:] or ["no output"]
    return False, f"KVM probe boot failed (exit {done.returncode}): {last[0].strip()}"


# --------------------------------------------------------------------------
# One kernel
# --------------------------------------------------------------------------

@dataclasses.dataclass
class Result:
    release: str
    vmlinuz: str
    status: str                 # ok | boot-failed | boot-timeout | timeout | no-record | suite-failed
    detail: str
    elapsed_s: float
    accel: str                  # kvm | tcg
    record: str | None = None
    pytest_exit: int | None = None
    boot_s: float | None = None  # from starting vng to the guest's first line

    @property
    def ok(self) -> bool:
        return self.record is not None


def classify(done: Completed, record: Path, timeout: float) -> tuple[str, str, int | None]:
    """(status, detail, pytest exit) from a finished guest run."""
    out = done.output
    booted = f"{GUEST_MARK} up" in out
    m = re.findall(re.escape(EXIT_MARK) + r"(\d+)", out)
    pytest_exit = int(m[-1]) if m else None
    have_record = record.is_file() and record.stat().st_size > 0
    if done.mark_missed:
        return ("boot-timeout", f"the guest did not start the suite within {done.elapsed:.0f} s "
                "of boot; killed", None)
    if done.timed_out:
        where = "the suite was still running" if booted else "the guest never started the suite"
        return "timeout", f"no result after {timeout:.0f} s ({where}); killed", pytest_exit
    if not booted:
        tail = [l.strip() for l in out.splitlines() if l.strip()][-3:]
        return ("boot-failed",
                f"vng exited {done.returncode} before the guest ran the suite"
                + (": " + " | ".join(tail) if tail else ""), None)
    if not have_record:
        return ("no-record",
                f"the guest booted but wrote no record (pytest exit {pytest_exit}, "
                f"vng exit {done.returncode})", pytest_exit)
    if pytest_exit not in (0, 1):
        return "suite-failed", f"record written but pytest exited {pytest_exit}", pytest_exit
    return "ok", f"pytest exit {pytest_exit}", pytest_exit


def run_kernel(kernel: KernelImage, *, vng: str, python: Path, project: Path, out: Path,
               pytest_args: Sequence[str], kvm: bool, timeout: float, memory: str, cpus: int,
               runner=run_bounded, echo: bool = True, boot_timeout: float | None = None) -> Result:
    outdir = out / kernel.release
    outdir.mkdir(parents=True, exist_ok=True)
    record = outdir / "record.json"
    for stale in ("record.json", "console.log"):
        (outdir / stale).unlink(missing_ok=True)
    script = guest_script(python, project, outdir, pytest_args, kernel.release)
    cmd = vng_command(vng, kernel, script, outdir, kvm=kvm, memory=memory, cpus=cpus,
                      project=project)
    accel = "kvm" if kvm else "tcg"
    boot_timeout = boot_timeout or (DEFAULT_BOOT_TIMEOUT_KVM if kvm else DEFAULT_BOOT_TIMEOUT_TCG)
    say(f"{kernel.release}: booting {kernel.vmlinuz} ({accel.upper()}, timeout {timeout:.0f} s, "
        f"boot {boot_timeout:.0f} s, modules {kernel.moddir or 'none found'})")
    done = runner(cmd, timeout, env=tool_env(vng), log=outdir / "console.log",
                  echo=(lambda l: print(f"  [{kernel.release}] {l}", flush=True)) if echo else None,
                  mark=f"{GUEST_MARK} up", mark_timeout=boot_timeout)
    status, detail, pytest_exit = classify(done, record, timeout)
    res = Result(kernel.release, str(kernel.vmlinuz), status, detail, round(done.elapsed, 1),
                 accel, str(record) if status in ("ok", "suite-failed") else None, pytest_exit,
                 round(done.mark_s, 1) if done.mark_s is not None else None)
    if res.ok:
        say(f"{kernel.release}: record {record} (boot {res.boot_s} s, total {done.elapsed:.0f} s, "
            f"{detail})")
    else:
        say(f"{kernel.release}: FAILED {status}: {detail} (console: {outdir / 'console.log'})")
    return res


# --------------------------------------------------------------------------
# Host run and comparison
# --------------------------------------------------------------------------

def run_host(python: Path, project: Path, out: Path, pytest_args: Sequence[str],
             runner=run_bounded, timeout: float = DEFAULT_TIMEOUT_KVM) -> Path | None:
    hostdir = out / "host"
    hostdir.mkdir(parents=True, exist_ok=True)
    record = hostdir / "record.json"
    record.unlink(missing_ok=True)
    say(f"host: running the suite on {os.uname().release}")
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    cmd = [str(python), "-m", "pytest", "-p", "no:cacheprovider", *pytest_args,
           f"--record={record}"]
    done = runner(cmd, timeout, env=env, log=hostdir / "console.log")
    if record.is_file():
        say(f"host: record {record} (pytest exit {done.returncode}, {done.elapsed:.0f} s)")
        return record
    say(f"host: FAILED: no record (pytest exit {done.returncode}; console: {hostdir / 'console.log'})")
    return None


def compare(python: Path, project: Path, records: Sequence[Path], out: Path,
            runner=run_bounded) -> int | None:
    """Run reports.compare over the records (first is the baseline); its exit status or None."""
    if len(records) < 2:
        say("comparison skipped: fewer than two records")
        return None
    status = None
    for fmt, name in (("markdown", "comparison.md"), ("text", "comparison.txt")):
        cmd = [str(python), "-m", "reports.compare", *map(str, records), "--format", fmt,
               "--output", str(out / name)]
        done = runner(cmd, 300, env=dict(os.environ, PYTHONPATH=str(project)))
        if done.returncode == 2 or done.returncode is None:
            say(f"comparison failed ({fmt}): {done.output.strip()}")
            return 2
        status = done.returncode
    say(f"comparison: {out / 'comparison.md'} (reports.compare exit {status})")
    return status


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

def find_vng(explicit: str | None) -> str | None:
    if explicit:
        return explicit if Path(explicit).is_file() or shutil.which(explicit) else None
    beside = Path(sys.executable).parent / "vng"
    if beside.is_file():
        return str(beside)
    return shutil.which("vng")


def default_python(project: Path) -> Path:
    venv = project / ".venv" / "bin" / "python"
    return venv if venv.exists() else Path(sys.executable)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tools.kernels.run",
        description="Run the conformance suite under each KERNEL with virtme-ng, "
                    "one record per kernel, then compare them with the host's record.",
        epilog="Arguments after -- go to pytest inside every guest (default: -n auto). "
               "Exit status: 0 all kernels recorded and no unexplained regression, "
               "1 a kernel failed or the comparison found one, 2 usage error.")
    p.add_argument("kernels", nargs="*", metavar="KERNEL",
                   help="vmlinuz with lib/modules/<release> beside it, or an unpacked package root "
                        "(none: fetch Debian's " + " ".join(fetch.DEFAULT_SERIES) + " with tools.kernels.fetch)")
    p.add_argument("--cache", type=Path, default=None,
                   help="where fetched kernels are kept when no KERNEL is given "
                        "(default: tools.kernels.fetch's, $IPC_KERNEL_CACHE or /var/tmp/ipc-conformance/kernels)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help=f"output directory, one subdirectory per kernel (default: {DEFAULT_OUT})")
    p.add_argument("--python", type=Path, default=None,
                   help="the project's venv interpreter, by absolute path (default: .venv/bin/python)")
    p.add_argument("--vng", default=None, help="virtme-ng's vng (default: beside this Python, or PATH)")
    p.add_argument("--kvm", choices=("auto", "yes", "no"), default="auto",
                   help="auto: probe-boot under KVM and fall back to TCG (default)")
    p.add_argument("--timeout", type=float, default=None,
                   help=f"seconds per boot (default {DEFAULT_TIMEOUT_KVM} with KVM, "
                        f"{DEFAULT_TIMEOUT_TCG} with TCG)")
    p.add_argument("--boot-timeout", type=float, default=None,
                   help=f"seconds until the guest starts the suite (default {DEFAULT_BOOT_TIMEOUT_KVM} "
                        f"with KVM, {DEFAULT_BOOT_TIMEOUT_TCG} with TCG); a kernel that does not boot "
                        "by then is killed")
    p.add_argument("--memory", default="2G", help="guest memory (default 2G)")
    p.add_argument("--cpus", type=int, default=min(2, os.cpu_count() or 1),
                   help="guest CPUs (default 2)")
    host = p.add_mutually_exclusive_group()
    host.add_argument("--host-record", type=Path, default=None,
                      help="use this record as the host's instead of running the suite on the host")
    host.add_argument("--no-host", action="store_true",
                      help="do not run the suite on the host; compare the kernels only")
    p.add_argument("--no-compare", action="store_true", help="skip reports.compare")
    p.add_argument("--dry-run", action="store_true", help="print the vng commands, boot nothing")
    return p


def split_argv(argv: Sequence[str]) -> tuple[list[str], list[str] | None]:
    argv = list(argv)
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return argv, None


def main(argv: Sequence[str] | None = None, *, runner=run_bounded, prober=probe_kvm) -> int:
    own, pytest_args = split_argv(sys.argv[1:] if argv is None else argv)
    try:
        args = parser().parse_args(own)
    except SystemExit as exc:
        return 0 if exc.code == 0 else 2
    pytest_args = DEFAULT_PYTEST_ARGS if pytest_args is None else pytest_args
    project = PROJECT
    python = (args.python or default_python(project)).absolute()
    if not python.exists():
        say(f"{python}: no such interpreter (create the venv: python3 -m venv .venv && "
            ".venv/bin/pip install -e .)")
        return 2
    kernel_args = list(args.kernels)
    if not kernel_args:
        # One command on a machine that has no kernel images yet: Debian's, cached.
        say("no KERNEL given: fetching Debian " + ", ".join(fetch.DEFAULT_SERIES))
        try:
            kernel_args = [str(v) for v in fetch.fetch(list(fetch.DEFAULT_SERIES),
                                                        (args.cache or fetch.DEFAULT_CACHE).absolute(),
                                                        update=True)]
        except (subprocess.CalledProcessError, OSError) as exc:
            say(f"error: fetching kernels failed: {exc}")
            return 2
        if not kernel_args:
            say("error: no kernel could be fetched")
            return 2
    kernels, bad = [], False
    for k in kernel_args:
        try:
            kernels.append(resolve_kernel(k))
        except KernelError as exc:
            say(f"error: {exc}")
            bad = True
    if bad:
        return 2
    for what, path in (("interpreter", python), ("project", project)):
        hidden = hidden_in_guest(path)
        if hidden:
            say(f"error: the {what} {path} is under {hidden}, which virtme-ng hides from the "
                "guest (a fresh tmpfs there); use one elsewhere")
            return 2
    vng = find_vng(args.vng)
    if vng is None and not args.dry_run:
        say("error: virtme-ng's vng not found (pip install virtme-ng; QEMU: apt-get install "
            "qemu-system-x86)")
        return 2
    vng = vng or "vng"
    missing = [] if args.dry_run else missing_host_tools(vng)
    if missing:
        say("error: virtme-ng needs " + ", ".join(missing) + " on the host; install them "
            "(Debian: apt-get install busybox-static qemu-system-x86 kmod udev)")
        return 2
    out = args.out.absolute()
    out.mkdir(parents=True, exist_ok=True)

    if args.kvm == "yes":
        kvm, why = True, "--kvm yes"
    elif args.kvm == "no":
        kvm, why = False, "--kvm no"
    elif args.dry_run:
        kvm, why = False, "dry run (no KVM probe)"
    else:
        kvm, why = prober(vng, kernels[0])
    if kvm:
        say(f"using KVM ({why})")
    else:
        say(f"NOT using KVM: {why}; falling back to --disable-kvm (QEMU TCG, much slower)")
    timeout = args.timeout or (DEFAULT_TIMEOUT_KVM if kvm else DEFAULT_TIMEOUT_TCG)
    guest_args = with_test_timeout(pytest_args, kvm)

    if args.dry_run:
        for k in kernels:
            outdir = out / k.release
            script = guest_script(python, project, outdir, guest_args, k.release)
            print(shlex.join(vng_command(vng, k, script, outdir, kvm=kvm, memory=args.memory,
                                         cpus=args.cpus, project=project)))
        return 0

    host_record = None
    if args.host_record:
        host_record = args.host_record.absolute()
        if not host_record.is_file():
            say(f"error: {host_record}: no such record")
            return 2
    elif not args.no_host:
        host_record = run_host(python, project, out, pytest_args, runner=runner)

    results = []
    for k in kernels:
        results.append(run_kernel(k, vng=vng, python=python, project=project, out=out,
                                  pytest_args=guest_args, kvm=kvm, timeout=timeout,
                                  memory=args.memory, cpus=args.cpus, runner=runner,
                                  boot_timeout=args.boot_timeout))
    summary = {
        "host_record": str(host_record) if host_record else None,
        "accel": "kvm" if kvm else "tcg", "accel_reason": why,
        "kernels": [dataclasses.asdict(r) for r in results],
    }
    records = ([host_record] if host_record else []) + [Path(r.record) for r in results if r.ok]
    cmp_status = None
    if not args.no_compare:
        cmp_status = compare(python, project, records, out, runner=runner)
    summary["comparison_exit"] = cmp_status
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")

    say("summary:")
    for r in results:
        boot = f"boot {r.boot_s:.0f} s" if r.boot_s is not None else "no boot"
        print(f"  {r.release:<28} {r.status:<12} {r.elapsed_s:>6.0f} s  {boot:<11} {r.accel}  "
              f"{r.detail}")
    failed = [r for r in results if not r.ok]
    if failed:
        say(f"{len(failed)} of {len(results)} kernel(s) gave no record: "
            + ", ".join(r.release for r in failed))
    return 1 if failed or cmp_status == 1 or cmp_status == 2 else 0


if __name__ == "__main__":
    sys.exit(main())
