"""Run the conformance suite under other kernels with virtme-ng, then compare.

    python -m tools.kernels.run [options] [KERNEL ...] [-- PYTEST-ARGS ...]

KERNEL is a series name that ``tools.kernels.fetch`` knows (5.10, 6.1, 6.12, sid,
6.12-arm64, 6.12-arm64-16k: fetched with its private apt configuration into
``--cache``), or a vmlinuz whose modules sit beside it in ``lib/modules/<release>``
(or ``usr/lib/modules``), as ``dpkg-deb -x`` of a Debian ``linux-image-*`` package
leaves them (``ROOT/boot/vmlinuz-<release>``), or such an unpacked ROOT directory.
With no KERNEL the runner fetches Debian's 5.10, 6.1 and 6.12 itself.

An x86_64 kernel boots with virtme-ng (below); an arm64 one (told by the image's
header) boots under qemu-system-aarch64 with a Debian arm64 userspace of its own
(``tools.kernels.arm64``).  Either way the run reports its boot time (until the guest
starts the suite) and its suite time, per kernel in the summary.

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
import hashlib
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

from tools.kernels import arm64, fetch

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
UP_MARK = f"{GUEST_MARK} up"
EXIT_MARK = "ipc-conformance-guest: pytest exit "
HOST_ARCH = os.uname().machine
# virtme-ng takes --rodir/--rwdir paths made of these characters only (its
# _SAFE_PATH_PATTERN); a Debian version string adds ~ and : (and + in releases).
VNG_SAFE_PATH = re.compile(r"[a-zA-Z0-9_+ /.-]+")


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
    moddir: Path | None   # ROOT/lib/modules/<release> (or ROOT/usr/lib/...) when present
    arch: str = HOST_ARCH  # the image's machine: x86_64 boots with vng, aarch64 with QEMU

    @property
    def bootdir(self) -> Path | None:
        boot = self.root / "boot"
        return boot if (boot / f"config-{self.release}").exists() else None

    @property
    def config(self) -> Path | None:
        """The kernel's config: boot/config-<release>, or (Debian 14's split packages)
        lib/modules/<release>/config."""
        if self.bootdir:
            return self.bootdir / f"config-{self.release}"
        if self.moddir and (self.moddir / "config").is_file():
            return self.moddir / "config"
        return None

    @property
    def foreign(self) -> bool:
        return self.arch != HOST_ARCH


class KernelError(ValueError):
    pass


def resolve_kernel(arg: str | os.PathLike) -> KernelImage:
    """A KernelImage from a vmlinuz path or an unpacked package root; KernelError if neither."""
    path = Path(arg).expanduser()
    if path.is_dir():
        images = (sorted((path / "boot").glob("vmlinuz-*")) or sorted(path.glob("vmlinuz-*"))
                  or [p for pattern in SPLIT_IMAGES for p in sorted(path.glob(pattern))])
        if not images:
            raise KernelError(f"{arg}: directory without boot/vmlinuz-*")
        path = images[-1]
    if not path.is_file():
        raise KernelError(f"{arg}: no such kernel image")
    path = path.resolve()
    arch = arm64.image_arch(path) or HOST_ARCH
    release = None
    m = re.match(r"(?:vmlinuz|bzImage|vmlinux|Image)-(.+)$", path.name)
    if m:
        release = m.group(1)
    elif path.parent.parent.name == "modules" and path.name in ("vmlinuz", "vmlinuz.unsigned"):
        # Debian 14's split packages: ROOT/usr/lib/modules/R/vmlinuz[.unsigned]
        release = path.parent.name
        root = path.parent.parent.parent                  # .../lib
        root = root.parent if root.name == "lib" else root
        root = root.parent if root.name == "usr" else root
        return KernelImage(path, release, root, path.parent, arch)
    # Modules "beside" the image: in the image's directory or one or two levels up
    # (dpkg-deb -x leaves ROOT/boot/vmlinuz-R next to ROOT/lib/modules/R, or, in
    # Debian 13's merged-/usr packages, ROOT/usr/lib/modules/R).
    for root in (path.parent, path.parent.parent, path.parent.parent.parent):
        for mods in (root / "lib" / "modules", root / "usr" / "lib" / "modules"):
            if release and (mods / release).is_dir():
                return KernelImage(path, release, root, mods / release, arch)
            if release is None and mods.is_dir():
                found = sorted(p for p in mods.iterdir() if p.is_dir())
                if len(found) == 1:
                    return KernelImage(path, found[0].name, root, found[0], arch)
    if release is None:
        raise KernelError(f"{arg}: cannot tell the kernel release (name it vmlinuz-<release> "
                          "or put its modules in lib/modules/<release> beside it)")
    root = path.parent.parent if path.parent.name == "boot" else path.parent
    return KernelImage(path, release, root, None, arch)


# where Debian 14's split packages (linux-binary-R) put the image
SPLIT_IMAGES = ("usr/lib/modules/*/vmlinuz", "usr/lib/modules/*/vmlinuz.unsigned",
                "lib/modules/*/vmlinuz", "lib/modules/*/vmlinuz.unsigned")


def split_kernel_args(args: Sequence[str]) -> tuple[list[str], list[str]]:
    """(series names to fetch, paths): an argument is a name when it is a series that
    tools.kernels.fetch knows and no file or directory of that name exists here."""
    names, paths = [], []
    for a in args:
        (names if a in fetch.SERIES and not os.path.exists(a) else paths).append(a)
    return names, paths


def staging_dir(out: Path) -> Path:
    """Where vng_safe puts its links: OUT/.staging, or under ~/.cache when OUT itself has
    characters virtme-ng refuses (not /tmp or /var/tmp: the guest mounts its own there)."""
    for candidate in (out / ".staging", Path.home() / ".cache" / "ipc-conformance" / "vng-staging"):
        if VNG_SAFE_PATH.fullmatch(str(candidate)):
            return candidate
    return out / ".staging"


def vng_safe(path: Path, staging: Path) -> Path:
    """path, or a symlink to it under staging whose name virtme-ng accepts.

    virtme-ng refuses a --rodir/--rwdir with ~ or : (a Debian version string has
    both: ...-1~deb12u1_amd64/boot); QEMU follows the link when it opens the share."""
    text = str(path)
    if VNG_SAFE_PATH.fullmatch(text):
        return path
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    name = re.sub(r"[^a-zA-Z0-9_+.-]", "_", path.name) or "dir"
    staging.mkdir(parents=True, exist_ok=True)
    link = staging / f"{name}-{digest}"
    if not (link.is_symlink() and os.readlink(link) == text):
        tmp = staging / f".{name}-{digest}.{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(text)
        os.replace(tmp, link)
    if not VNG_SAFE_PATH.fullmatch(str(link)):
        raise KernelError(f"{staging}: cannot stage {path} for virtme-ng under a path with "
                          "characters it refuses; give --out a plain path")
    return link


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
                memory: str, cpus: int, project: Path, staging: Path | None = None) -> list[str]:
    staging = staging or staging_dir(outdir.parent)
    cmd = [vng, "--run", str(kernel.vmlinuz), "--memory", memory, "--cpus", str(cpus),
           "--rwdir", str(vng_safe(outdir, staging)), "--cwd", str(project), "--name", "ipcc-guest"]
    if kernel.bootdir:
        # /boot/config-<release> for the record's kconfig (Debian kernels have no /proc/config.gz).
        cmd += ["--rodir", f"/boot={vng_safe(kernel.bootdir, staging)}"]
    elif kernel.config:
        # a config elsewhere (lib/modules/R/config): a /boot of its own, copied, since the
        # guest cannot follow a link into /var/tmp (a fresh tmpfs there)
        boot = staging / f"boot-{re.sub(r'[^a-zA-Z0-9_+.-]', '_', kernel.release)}"
        boot.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kernel.config, boot / f"config-{kernel.release}")
        cmd += ["--rodir", f"/boot={boot}"]
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
    end_s: float | None = None    # seconds until the first line containing `end_mark`


def run_bounded(cmd: Sequence[str], timeout: float, *, env: dict | None = None,
                log: Path | None = None, echo: Callable[[str], None] | None = None,
                mark: str | None = None, mark_timeout: float | None = None,
                end_mark: str | None = None) -> Completed:
    """Run cmd with stdout+stderr piped (never a regular file: QEMU reopens its
    output), echo and log each line, and kill its whole process group after timeout,
    or after mark_timeout when no line containing mark has come by then (a guest that
    never boots: QEMU sits in the firmware forever on an image it cannot load).
    The times of the first mark and end_mark lines are kept (boot and suite time)."""
    start = time.monotonic()
    lines: list[str] = []
    seen: list[float] = []
    ended: list[float] = []
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
            if end_mark and not ended and end_mark in line:
                ended.append(time.monotonic() - start)
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
                     mark_missed, ended[0] if ended else None)


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
    boot_s: float | None = None  # from starting vng (QEMU) to the guest starting the suite
    suite_s: float | None = None  # from the guest starting the suite to pytest's exit
    arch: str = HOST_ARCH

    @property
    def ok(self) -> bool:
        return self.record is not None


def classify(done: Completed, record: Path, timeout: float) -> tuple[str, str, int | None]:
    """(status, detail, pytest exit) from a finished guest run."""
    out = done.output
    booted = UP_MARK in out
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
               runner=run_bounded, echo: bool = True, boot_timeout: float | None = None,
               preparer=None) -> Result:
    """Boot one kernel, run the suite inside, collect its record: virtme-ng for a kernel
    of the host's architecture, tools.kernels.arm64 (plain QEMU, its own userspace) for
    an arm64 one (always TCG)."""
    outdir = out / kernel.release
    outdir.mkdir(parents=True, exist_ok=True)
    record = outdir / "record.json"
    for stale in ("record.json", "console.log"):
        (outdir / stale).unlink(missing_ok=True)
    collect = None
    if kernel.foreign:
        kvm = False
        pytest_args = with_test_timeout(pytest_args, kvm=False)
        try:
            plan = (preparer or arm64.prepare)(
                kernel, project=project, python=python, memory=memory, cpus=cpus,
                suite_script=lambda py, proj, odir: guest_script(
                    Path(py), Path(proj), Path(odir), pytest_args, kernel.release))
        except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
            detail = f"could not prepare the {kernel.arch} guest: {exc}"
            say(f"{kernel.release}: FAILED prepare-failed: {detail}")
            return Result(kernel.release, str(kernel.vmlinuz), "prepare-failed", detail, 0.0,
                          "tcg", arch=kernel.arch)
        cmd, collect, env = plan.command, plan.collect, dict(os.environ)
    else:
        try:
            guest_out = vng_safe(outdir, staging_dir(out))
        except KernelError as exc:
            say(f"{kernel.release}: FAILED prepare-failed: {exc}")
            return Result(kernel.release, str(kernel.vmlinuz), "prepare-failed", str(exc), 0.0,
                          "kvm" if kvm else "tcg", arch=kernel.arch)
        script = guest_script(python, project, guest_out, pytest_args, kernel.release)
        cmd = vng_command(vng, kernel, script, outdir, kvm=kvm, memory=memory, cpus=cpus,
                          project=project, staging=staging_dir(out))
        env = tool_env(vng)
    accel = "kvm" if kvm else "tcg"
    boot_timeout = boot_timeout or (DEFAULT_BOOT_TIMEOUT_KVM if kvm else DEFAULT_BOOT_TIMEOUT_TCG)
    say(f"{kernel.release}: booting {kernel.vmlinuz} ({kernel.arch}, {accel.upper()}, "
        f"timeout {timeout:.0f} s, boot {boot_timeout:.0f} s, "
        f"modules {kernel.moddir or 'none found'})")
    done = runner(cmd, timeout, env=env, log=outdir / "console.log",
                  echo=(lambda l: print(f"  [{kernel.release}] {l}", flush=True)) if echo else None,
                  mark=UP_MARK, mark_timeout=boot_timeout, end_mark=EXIT_MARK)
    if collect is not None:
        collect(outdir)
    status, detail, pytest_exit = classify(done, record, timeout)
    suite_s = (done.end_s - done.mark_s) if done.end_s is not None and done.mark_s is not None \
        else None
    res = Result(kernel.release, str(kernel.vmlinuz), status, detail, round(done.elapsed, 1),
                 accel, str(record) if status in ("ok", "suite-failed") else None, pytest_exit,
                 round(done.mark_s, 1) if done.mark_s is not None else None,
                 round(suite_s, 1) if suite_s is not None else None, kernel.arch)
    if res.ok:
        say(f"{kernel.release}: record {record} (boot {res.boot_s} s, suite {res.suite_s} s, "
            f"total {done.elapsed:.0f} s, {detail})")
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


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} s"


def summary_table(results: Sequence[Result]) -> list[str]:
    """One line per kernel: release, arch, status, boot, suite and total time, accel, detail."""
    rows = [("kernel", "arch", "status", "boot", "suite", "total", "accel", "detail")]
    rows += [(r.release, r.arch, r.status, _seconds(r.boot_s), _seconds(r.suite_s),
              _seconds(r.elapsed_s), r.accel, r.detail) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(7)]
    return ["  ".join(cell.ljust(w) if i < 3 or i == 6 else cell.rjust(w)
                      for i, (cell, w) in enumerate(zip(row[:7], widths))) + "  " + row[7]
            for row in rows]


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
    cache = (args.cache or fetch.DEFAULT_CACHE).absolute()
    kernel_args = list(args.kernels)
    if not kernel_args:
        # One command on a machine that has no kernel images yet: Debian's, cached.
        say("no KERNEL given: fetching Debian " + ", ".join(fetch.DEFAULT_SERIES))
        kernel_args = list(fetch.DEFAULT_SERIES)
    names, _paths = split_kernel_args(kernel_args)
    if names:
        say("fetching " + ", ".join(names) + f" with the private apt configuration into {cache}")
        try:
            fetched = fetch.fetch_named(names, cache, update=True)
        except (subprocess.CalledProcessError, OSError, ValueError) as exc:
            say(f"error: fetching kernels failed: {exc}")
            return 2
        lost = [n for n in names if n not in fetched]
        if lost:
            say("error: no kernel could be fetched for " + ", ".join(lost)
                + " (fetch's lines above say why)")
            if not fetched or args.kernels:
                return 2
        kernel_args = [str(fetched[a]) if a in fetched else a for a in kernel_args
                       if a in fetched or a not in names]
    kernels, bad = [], False
    for k in kernel_args:
        try:
            kernels.append(resolve_kernel(k))
        except KernelError as exc:
            say(f"error: {exc}" + ("" if os.path.sep in k or k in fetch.SERIES else
                                   " (a series name is one of " + ", ".join(fetch.SERIES) + ")"))
            bad = True
    if bad:
        return 2
    native = [k for k in kernels if not k.foreign]
    foreign = [k for k in kernels if k.foreign]
    unsupported = sorted({k.arch for k in foreign} - {"aarch64"})
    if unsupported:
        say(f"error: no guest for {', '.join(unsupported)} kernels on this {HOST_ARCH} host "
            "(aarch64 is supported)")
        return 2
    for what, path in (("interpreter", python), ("project", project)):
        hidden = hidden_in_guest(path)
        if hidden and native:
            say(f"error: the {what} {path} is under {hidden}, which virtme-ng hides from the "
                "guest (a fresh tmpfs there); use one elsewhere")
            return 2
    vng = find_vng(args.vng)
    if vng is None and native and not args.dry_run:
        say("error: virtme-ng's vng not found (pip install virtme-ng; QEMU: apt-get install "
            "qemu-system-x86)")
        return 2
    vng = vng or "vng"
    missing = [] if args.dry_run or not native else missing_host_tools(vng)
    if missing:
        say("error: virtme-ng needs " + ", ".join(missing) + " on the host; install them "
            "(Debian: apt-get install busybox-static qemu-system-x86 kmod udev)")
        return 2
    missing = [] if args.dry_run or not foreign else arm64.missing_host_tools()
    if missing:
        say("error: an arm64 guest needs " + ", ".join(missing) + " on the host; install them "
            "(Debian: apt-get install qemu-system-arm qemu-user-static mmdebstrap e2fsprogs)")
        return 2
    out = args.out.absolute()
    out.mkdir(parents=True, exist_ok=True)

    if args.kvm == "yes":
        kvm, why = True, "--kvm yes"
    elif args.kvm == "no":
        kvm, why = False, "--kvm no"
    elif args.dry_run:
        kvm, why = False, "dry run (no KVM probe)"
    elif not native:
        kvm, why = False, f"{HOST_ARCH} KVM cannot run {foreign[0].arch} kernels"
    else:
        kvm, why = prober(vng, native[0])
    if kvm:
        say(f"using KVM ({why})")
    elif native:
        say(f"NOT using KVM: {why}; falling back to --disable-kvm (QEMU TCG, much slower)")
    else:
        say(f"NOT using KVM: {why}; QEMU TCG (much slower)")
    timeout = args.timeout or (DEFAULT_TIMEOUT_KVM if kvm else DEFAULT_TIMEOUT_TCG)
    guest_args = with_test_timeout(pytest_args, kvm)

    if args.dry_run:
        for k in kernels:
            outdir = out / k.release
            if k.foreign:
                work = arm64.DEFAULT_CACHE / f"{arm64.SUITE}-arm64" / "runs"
                print(shlex.join(arm64.qemu_command(k.vmlinuz, work / "INITRD", work / "DISK",
                                                    memory=args.memory, cpus=args.cpus)))
                continue
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
        k_timeout = timeout if args.timeout or not k.foreign else DEFAULT_TIMEOUT_TCG
        results.append(run_kernel(k, vng=vng, python=python, project=project, out=out,
                                  pytest_args=guest_args, kvm=kvm, timeout=k_timeout,
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
    for line in summary_table(results):
        print("  " + line)
    failed = [r for r in results if not r.ok]
    if failed:
        say(f"{len(failed)} of {len(results)} kernel(s) gave no record: "
            + ", ".join(r.release for r in failed))
    return 1 if failed or cmp_status == 1 or cmp_status == 2 else 0


if __name__ == "__main__":
    sys.exit(main())
