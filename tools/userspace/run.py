"""Run the conformance suite in other userspaces of this very kernel, then compare.

    python -m tools.userspace.run [options] TARGET ... [-- PYTEST-ARGS ...]

TARGET is DISTRO:RELEASE[/ARCH]: debian:11, debian:12, debian:13, debian:12/i386 (an i386
userspace on an x86_64 kernel: a 32-bit Python making compat syscalls).  Each is built
once with debootstrap (minbase, plus what ``./ipcc`` needs: python3-venv, and gcc with
python3-dev for the wheels PyPI lacks) into ``CACHE/<name>`` (``--cache``,
``$IPC_USERSPACE_CACHE``, default /var/tmp/ipc-conformance/userspace).  The host's pip
configuration is carried in (/etc/pip.conf, /etc/xdg/pip, the PIP_* environment, and
the files and directories they name), so PyPI is reached the same way as on the host.

For each target a copy of this checkout goes to ``/root/ipc-conformance`` in the chroot
(its .venv is kept between runs) and the README's two commands run there unmodified,
``./ipcc run`` and ``./ipcc test``, inside ``unshare --mount --ipc``: the chroot is bound
onto itself (so / is a mount point, as in a container), gets fresh /proc, /dev (device
nodes bound from the host, a devpts instance, a private /dev/shm and /dev/mqueue), /sys
and /tmp, and becomes the root by pivot_root.  Every mount lives in that namespace and
goes with it: nothing stays mounted on the host (checked after each target).

Out: ``OUT/<name>/record.json`` (and ktap.txt, junit.xml, console.log) per target,
``OUT/host/record.json`` for the host, ``OUT/comparison.md`` and ``comparison.txt``
with the host as the baseline.  Exit status: 0 every target recorded, its self-tests
passed and the comparison found no unexplained regression; 1 otherwise; 2 bad arguments
or a missing tool (debootstrap: ``apt-get install debootstrap``).
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

from tools.kernels.run import compare, default_python, run_bounded, run_host, split_argv

PROJECT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = PROJECT / "reports" / "out" / "userspace"
DEFAULT_CACHE = Path(os.environ.get("IPC_USERSPACE_CACHE", "/var/tmp/ipc-conformance/userspace"))
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_PYTEST_ARGS = ["-n", "auto"]
DEFAULT_TIMEOUT = 3600            # per target: first set-up builds sysv_ipc/posix_ipc from source
DEBIAN_SUITES = {"11": "bullseye", "12": "bookworm", "13": "trixie"}
# What ./ipcc needs in a minbase system (ipcs, bash and coreutils are in it already).
PACKAGES = ("python3", "python3-venv", "python3-dev", "gcc", "libc6-dev", "ca-certificates")
STAMP = ".ipc-conformance-userspace"
INSIDE = "/root/ipc-conformance"
EXIT_MARK = "ipc-conformance-userspace:"
# Left in the copy between runs: the venv (set-up is the slow part) and npm trees.
KEEP = (".venv", "tools/lint/node_modules", "reports/html_report/node_modules")
PIP_CONFIGS = ("/etc/pip.conf", "/etc/xdg/pip")
# Device nodes bound from the host into the chroot's fresh /dev.
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")


def say(msg: str) -> None:
    print(f"userspace: {msg}", flush=True)


class TargetError(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class Target:
    label: str          # as given: debian:12/i386
    release: str        # 12
    suite: str          # bookworm
    arch: str           # dpkg architecture: i386, amd64

    @property
    def name(self) -> str:
        """The directory name for the chroot and the record: debian-12-i386."""
        return f"debian-{self.release}-{self.arch}"


def host_dpkg_arch() -> str:
    try:
        return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"x86_64": "amd64", "aarch64": "arm64", "i686": "i386"}.get(os.uname().machine,
                                                                          os.uname().machine)


def parse_target(text: str, host_arch: str | None = None) -> Target:
    """'debian:12/i386' -> Target; TargetError naming what is wrong."""
    m = re.fullmatch(r"(\w+):([\w.]+)(?:/([\w-]+))?", text.strip())
    if not m:
        raise TargetError(f"{text!r}: expected DISTRO:RELEASE[/ARCH], e.g. debian:12/i386")
    distro, release, arch = m.groups()
    if distro != "debian":
        raise TargetError(f"{text!r}: only debian userspaces are built (debootstrap)")
    release = {v: k for k, v in DEBIAN_SUITES.items()}.get(release, release)
    if release not in DEBIAN_SUITES:
        raise TargetError(f"{text!r}: Debian release {release} is not one of "
                          + ", ".join(f"{k} ({v})" for k, v in DEBIAN_SUITES.items()))
    return Target(text, release, DEBIAN_SUITES[release], arch or host_arch or host_dpkg_arch())


# --------------------------------------------------------------------------
# Mounts
# --------------------------------------------------------------------------

def mount_points(mountinfo: str = "/proc/self/mountinfo") -> list[str]:
    """Every mount point this process sees (octal escapes decoded)."""
    points = []
    with open(mountinfo) as f:
        for line in f:
            field = line.split()[4]
            points.append(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field))
    return points


def mounted_under(root: Path, mountinfo: str = "/proc/self/mountinfo") -> list[str]:
    """Mount points at or below root (what a run must not leave behind)."""
    top = str(root).rstrip("/")
    return [p for p in mount_points(mountinfo) if p == top or p.startswith(top + "/")]


# --------------------------------------------------------------------------
# Building a chroot
# --------------------------------------------------------------------------

def debootstrap_command(target: Target, dest: Path, mirror: str,
                        packages: Sequence[str] = PACKAGES) -> list[str]:
    return ["nice", "-n", "10", "debootstrap", "--variant=minbase", f"--arch={target.arch}",
            "--include=" + ",".join(packages), target.suite, str(dest), mirror]


def build(target: Target, cache: Path, mirror: str, runner=run_bounded) -> Path:
    """The chroot for target, built once (OSError on failure, naming the log)."""
    root = cache / target.name
    if (root / STAMP).is_file():
        return root
    tmp = cache / f".build-{target.name}"
    if tmp.exists():
        left = mounted_under(tmp)
        if left:
            raise OSError(f"{tmp}: an interrupted debootstrap left {left} mounted; "
                          "umount them and remove it")
        shutil.rmtree(tmp)
    cache.mkdir(parents=True, exist_ok=True)
    log = cache / f"{target.name}.debootstrap.log"
    say(f"{target.label}: debootstrap {target.suite} {target.arch} into {root} (log {log})")
    done = runner(debootstrap_command(target, tmp, mirror), DEFAULT_TIMEOUT, log=log)
    if done.returncode != 0 or not (tmp / "usr" / "bin" / "python3").exists():
        raise OSError(f"debootstrap of {target.label} failed (exit {done.returncode}); see {log}")
    left = mounted_under(tmp)
    if left:
        raise OSError(f"debootstrap left {left} mounted")
    tmp.rename(root)
    (root / STAMP).write_text(json.dumps({"target": target.label, "packages": list(PACKAGES),
                                          "mirror": mirror}) + "\n")
    return root


# --------------------------------------------------------------------------
# The project and the pip configuration inside
# --------------------------------------------------------------------------

def project_files(project: Path) -> list[str]:
    """The checkout's files as the working tree has them (tracked and new, not ignored)."""
    out = subprocess.run(["git", "-C", str(project), "ls-files", "-co", "--exclude-standard", "-z"],
                         capture_output=True, check=True).stdout
    return [f for f in out.decode().split("\0") if f and (project / f).is_file()]


def _kept(rel: str) -> bool:
    return any(rel == k or rel.startswith(k + "/") for k in KEEP)


def copy_project(project: Path, dest: Path, files: Iterable[str] | None = None,
                 commit: str | None = None) -> None:
    """Replace dest's copy of the project, keeping KEEP (the venv) from the last run: the
    working tree's files, or those of `commit` (a work tree others are editing is not
    always a consistent project)."""
    dest.mkdir(parents=True, exist_ok=True)
    for dirpath, dirnames, filenames in os.walk(dest, topdown=False):
        rel = os.path.relpath(dirpath, dest)
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            if not _kept(os.path.normpath(os.path.join(rel, name))):
                os.unlink(os.path.join(dirpath, name))
        if rel != "." and not _kept(rel) and not any(k.startswith(rel + "/") for k in KEEP) \
                and not os.listdir(dirpath):
            os.rmdir(dirpath)
    if commit is not None:
        archive = subprocess.run(["git", "-C", str(project), "archive", "--format=tar", commit],
                                 capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            # the "data" filter where tarfile has it (3.12+; older ones are trusted on our own archive)
            tar.extractall(dest, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
        return
    for rel in project_files(project) if files is None else files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(project / rel, target)


def pip_environment(environ: dict | None = None) -> dict[str, str]:
    return {k: v for k, v in (os.environ if environ is None else environ).items()
            if k.startswith("PIP_")}


def _paths_in(text: str) -> list[str]:
    """Absolute paths in a pip setting (cert, find-links, constraint... may list several)."""
    return [w for w in re.split(r"[\s,]+", text.replace("file://", "")) if w.startswith("/")]


def pip_paths(configs: Sequence[str] = PIP_CONFIGS, environ: dict | None = None) -> list[str]:
    """Existing host paths that the pip configuration names (copied or bound inside)."""
    found: list[str] = []
    texts = list(pip_environment(environ).values())
    for conf in configs:
        p = Path(conf)
        for f in ([p] if p.is_file() else sorted(p.rglob("*")) if p.is_dir() else []):
            if f.is_file():
                texts += [line.split("=", 1)[1] for line in f.read_text(errors="replace").splitlines()
                          if "=" in line and not line.lstrip().startswith(("#", ";"))]
    for text in texts:
        for path in _paths_in(text):
            if os.path.exists(path) and path not in found:
                found.append(path)
    return found


def carry_pip_config(root: Path, configs: Sequence[str] = PIP_CONFIGS,
                     environ: dict | None = None) -> list[str]:
    """Copy the pip configuration and the files it names into root; return the directories
    it names, which are bound read-only at the same path inside (find-links, an index)."""
    binds = []
    for conf in configs:
        src = Path(conf)
        dst = root / conf.lstrip("/")
        if src.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
        elif src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
    for path in pip_paths(configs, environ):
        if os.path.isdir(path):
            binds.append(path)
        else:
            dst = root / path.lstrip("/")
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dst)
    if Path("/etc/resolv.conf").is_file():
        (root / "etc").mkdir(exist_ok=True)
        resolv = root / "etc" / "resolv.conf"
        if resolv.is_symlink():
            resolv.unlink()
        shutil.copy2("/etc/resolv.conf", resolv)
    return binds


# --------------------------------------------------------------------------
# The namespace
# --------------------------------------------------------------------------

# $1 = chroot, $2 = the command run as the new root's /bin/sh -c, then directories to bind
# read-only at their own path.  Runs under unshare --mount --ipc (private propagation).
NAMESPACE_SCRIPT = r'''
set -eu
R=$1; CMD=$2; shift 2
mount --bind "$R" "$R"                                  # / is a mount point, as in a container
mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
mount -t tmpfs -o nosuid,mode=0755 dev "$R/dev"
for d in @DEVICES@; do touch "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done
mkdir -p "$R/dev/pts" "$R/dev/shm" "$R/dev/mqueue"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"; ln -s /proc/self/fd/1 "$R/dev/stdout"; ln -s /proc/self/fd/2 "$R/dev/stderr"
mount -t tmpfs -o nosuid,nodev,mode=1777 shm "$R/dev/shm"
mount -t mqueue -o nosuid,nodev,noexec mqueue "$R/dev/mqueue"   # this IPC namespace's queues
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys" 2>/dev/null || mount --rbind /sys "$R/sys"
mount -t tmpfs -o nosuid,nodev,mode=1777 tmp "$R/tmp"
for p in "$@"; do
    mkdir -p "$R$p"; mount --bind "$p" "$R$p"; mount -o remount,bind,ro "$R$p"
done
mkdir -p "$R/.oldroot"
cd "$R"
pivot_root . .oldroot
cd /
umount -l /.oldroot
exec /bin/sh -c "$CMD"
'''.replace("@DEVICES@", " ".join(DEVICES))


def namespace_command(root: Path, command: str, binds: Sequence[str] = ()) -> list[str]:
    return ["unshare", "--mount", "--ipc", "--propagation", "private", "--",
            "/bin/sh", "-c", NAMESPACE_SCRIPT, "sh", str(root), command, *binds]


def inside_environment(environ: dict | None = None) -> dict[str, str]:
    env = {"HOME": "/root", "LANG": "C.UTF-8", "TERM": "dumb",
           "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "PYTHONDONTWRITEBYTECODE": "1", "DEBIAN_FRONTEND": "noninteractive"}
    env.update(pip_environment(environ))
    return env


def inside_script(pytest_args: Sequence[str], *, selftest: bool, personality: str | None,
                  packages: Sequence[str] = PACKAGES) -> str:
    """What runs as root of the chroot: the packages ./ipcc needs (a cache built before
    they were listed), then the README's two commands, each exit status marked."""
    wrap = f"setarch {personality} " if personality else ""
    pkgs = " ".join(packages)
    lines = [
        f"dpkg -s {pkgs} >/dev/null 2>&1 || {{ apt-get update -q && "
        f"apt-get install -y -q --no-install-recommends {pkgs}; }} >/tmp/apt.log 2>&1 "
        f"|| {{ cat /tmp/apt.log; echo '{EXIT_MARK} apt-get failed'; exit 2; }}",
        f"cd {INSIDE}",
        f"{wrap}nice -n 10 ./ipcc run {shlex.join(pytest_args)}; echo \"{EXIT_MARK} run exit $?\"",
    ]
    if selftest:
        lines.append(f"{wrap}nice -n 10 ./ipcc test; echo \"{EXIT_MARK} test exit $?\"")
    return "\n".join(lines) + "\n"


def env_prefix(env: dict[str, str]) -> str:
    """`env -i K=V ...`: the inner command starts from this environment, not the host's."""
    return "exec env -i " + " ".join(shlex.quote(f"{k}={v}") for k, v in sorted(env.items())) + " "


@dataclasses.dataclass
class Result:
    target: str
    name: str
    status: str                 # ok, failed
    detail: str
    record: str | None = None
    run_exit: int | None = None
    test_exit: int | None = None
    summary: dict | None = None
    host_facts: dict | None = None
    elapsed_s: float = 0.0


def marks(output: str) -> dict[str, int]:
    return {m.group(1): int(m.group(2))
            for m in re.finditer(EXIT_MARK + r" (run|test) exit (\d+)", output)}


def run_target(target: Target, root: Path, out: Path, pytest_args: Sequence[str], *,
               selftest: bool, personality: str | None, project: Path = PROJECT,
               commit: str | None = None,
               timeout: float = DEFAULT_TIMEOUT, runner=run_bounded) -> Result:
    outdir = out / target.name
    outdir.mkdir(parents=True, exist_ok=True)
    for stale in ("record.json", "ktap.txt", "junit.xml"):
        (outdir / stale).unlink(missing_ok=True)
    copy = root / INSIDE.lstrip("/")
    copy_project(project, copy, commit=commit)
    binds = carry_pip_config(root)
    script = inside_script(pytest_args, selftest=selftest, personality=personality)
    command = env_prefix(inside_environment()) + "/bin/sh -c " + shlex.quote(script)
    say(f"{target.label}: running ./ipcc run{' and ./ipcc test' if selftest else ''} in {root}")
    done = runner(namespace_command(root, command, binds), timeout, log=outdir / "console.log",
                  echo=lambda line: print(f"  {target.name} | {line}", flush=True))
    left = mounted_under(root)
    if left:
        return Result(target.label, target.name, "failed", f"left mounted: {left}",
                      elapsed_s=done.elapsed)
    got = marks(done.output)
    # ./ipcc run writes reports/out/, a selection (-k, -m, a path) reports/out/selection/
    runs = [d for d in (copy / "reports" / "out", copy / "reports" / "out" / "selection")
            if (d / "record.json").is_file()]
    produced = max(runs, key=lambda d: (d / "record.json").stat().st_mtime, default=copy)
    for name in ("record.json", "ktap.txt", "junit.xml"):
        if (produced / name).is_file():
            shutil.copy2(produced / name, outdir / name)
    record = outdir / "record.json"
    result = Result(target.label, target.name, "failed", "", run_exit=got.get("run"),
                    test_exit=got.get("test"), elapsed_s=done.elapsed)
    if done.timed_out:
        result.detail = f"timed out after {timeout:.0f} s"
    elif not record.is_file():
        result.detail = (f"no record (./ipcc run exit {result.run_exit}, namespace exit "
                         f"{done.returncode}; console {outdir / 'console.log'})")
    else:
        data = json.loads(record.read_text())
        result.record, result.summary = str(record), data.get("summary")
        host = data.get("host") or {}
        result.host_facts = {k: host.get(k) for k in ("distro", "abi", "personality", "python",
                                                      "pip", "libc", "arch")}
        bad = (result.summary or {}).get("violated", 0) or (result.summary or {}).get("error", 0)
        if selftest and result.test_exit != 0:
            result.detail = f"self-tests exit {result.test_exit}"
        elif result.run_exit not in (0, None) or bad:
            result.detail = f"./ipcc run exit {result.run_exit}"
        else:
            result.status, result.detail = "ok", "recorded"
    return result


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="./ipcc userspace",
        description="Run ./ipcc run and ./ipcc test in debootstrap chroots of other Debian "
                    "releases and architectures on this kernel; one record each plus the "
                    "comparison with the host's.",
        epilog="Arguments after -- go to ./ipcc run inside every chroot (default: -n auto).")
    p.add_argument("targets", nargs="+", metavar="TARGET",
                   help="debian:11, debian:12, debian:13, debian:12/i386 (DISTRO:RELEASE[/ARCH])")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                   help=f"where chroots are built and kept (default {DEFAULT_CACHE})")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output (default {DEFAULT_OUT})")
    p.add_argument("--mirror", default=DEFAULT_MIRROR, help=f"Debian mirror (default {DEFAULT_MIRROR})")
    p.add_argument("--personality", choices=("linux32",), default=None,
                   help="run both commands under setarch linux32 (uname then says i686)")
    p.add_argument("--no-selftest", action="store_true", help="run only ./ipcc run inside")
    p.add_argument("--commit", default=None, metavar="REV",
                   help="copy this commit of the project in (git archive) instead of the working "
                        "tree; the host's run is made from the same commit")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                   help=f"seconds per target (default {DEFAULT_TIMEOUT})")
    host = p.add_mutually_exclusive_group()
    host.add_argument("--host-record", type=Path, default=None,
                      help="use this record as the host's instead of running the suite on the host")
    host.add_argument("--no-host", action="store_true", help="compare the targets only")
    p.add_argument("--dry-run", action="store_true", help="print what would run, build nothing")
    return p


def missing_tools() -> list[str]:
    need = {"debootstrap": "debootstrap", "unshare": "util-linux", "nice": "coreutils"}
    return [f"{tool} ({pkg})" for tool, pkg in need.items() if shutil.which(tool) is None]


def main(argv: Sequence[str] | None = None, *, runner=run_bounded) -> int:
    own, pytest_args = split_argv(sys.argv[1:] if argv is None else argv)
    try:
        args = parser().parse_args(own)
    except SystemExit as exc:
        return 0 if exc.code == 0 else 2
    inside_args = pytest_args or []          # ./ipcc run adds -n auto itself
    pytest_args = DEFAULT_PYTEST_ARGS if pytest_args is None else pytest_args
    try:
        targets = [parse_target(t) for t in args.targets]
    except TargetError as exc:
        say(f"error: {exc}")
        return 2
    cache, out = args.cache.absolute(), args.out.absolute()
    if args.dry_run:
        for t in targets:
            print(shlex.join(debootstrap_command(t, cache / t.name, args.mirror)))
            print(shlex.join(namespace_command(cache / t.name, inside_script(
                inside_args, selftest=not args.no_selftest, personality=args.personality))))
        return 0
    if os.geteuid() != 0:
        say("error: needs root (debootstrap, and unshare --mount for the chroot's mounts)")
        return 2
    missing = missing_tools()
    if missing:
        say("error: missing " + ", ".join(missing) + "; apt-get install debootstrap")
        return 2
    python = default_python(PROJECT).absolute()
    out.mkdir(parents=True, exist_ok=True)
    host_record = None
    if args.host_record:
        host_record = args.host_record.absolute()
        if not host_record.is_file():
            say(f"error: {host_record}: no such record")
            return 2
    elif not args.no_host and args.commit:
        # the baseline from the same commit: run from a copy of it (the venv's editable
        # install yields to the working directory, which python -m pytest puts first)
        tree = Path(tempfile.mkdtemp(prefix="ipcc-host-tree-"))
        here = os.getcwd()
        try:
            copy_project(PROJECT, tree, commit=args.commit)
            os.chdir(tree)
            host_record = run_host(python, tree, out, pytest_args, runner=runner)
        finally:
            os.chdir(here)
            shutil.rmtree(tree, ignore_errors=True)
    elif not args.no_host:
        host_record = run_host(python, PROJECT, out, pytest_args, runner=runner)
    results = []
    for t in targets:
        try:
            root = build(t, cache, args.mirror, runner=runner)
        except OSError as exc:
            results.append(Result(t.label, t.name, "failed", str(exc)))
            say(f"{t.label}: FAILED: {exc}")
            continue
        results.append(run_target(t, root, out, inside_args, selftest=not args.no_selftest,
                                  personality=args.personality, timeout=args.timeout,
                                  commit=args.commit, runner=runner))
    records = ([host_record] if host_record else []) + [Path(r.record) for r in results if r.record]
    cmp_status = compare(python, PROJECT, records, out, runner=runner)
    (out / "summary.json").write_text(json.dumps(
        {"host_record": str(host_record) if host_record else None, "comparison_exit": cmp_status,
         "targets": [dataclasses.asdict(r) for r in results]}, indent=1) + "\n")
    say("summary:")
    for r in results:
        counts = " ".join(f"{k} {v}" for k, v in (r.summary or {}).items())
        facts = r.host_facts or {}
        print(f"  {r.target:<16} {r.status:<7} {r.elapsed_s:>5.0f} s  {counts:<52} "
              f"abi {facts.get('abi')} python {facts.get('python')} pip {facts.get('pip')}  {r.detail}")
    failed = [r for r in results if r.status != "ok"]
    return 1 if failed or cmp_status in (1, 2) else 0


if __name__ == "__main__":
    sys.exit(main())
