"""arm64 guests: a Debian arm64 userspace booted by qemu-system-aarch64 under TCG.

The host's own userspace cannot run on an arm64 kernel, so virtme-ng's way (share
the host's file system) does not apply.  Instead, once per cache:

1. ``debootstrap --foreign --arch=arm64`` makes a minimal Debian 13 (trixie) tree
   and its second stage runs in a chroot through qemu-user (``qemu-aarch64-static``,
   registered with binfmt_misc);
2. the project's dependencies (pyproject.toml) are installed into that tree by the
   host's pip as aarch64 wheels from PyPI (``--platform ... --only-binary=:all:``):
   no compiler and no emulated pip.

Then for each run: the project is copied in, the kernel's ``boot/config-<release>``
goes to the tree's ``/boot`` (the record's kconfig), ``mkfs.ext4 -d`` makes a disk
image of it, a small busybox initramfs loads the virtio and ext4 modules of the
kernel's own package and switches to the disk, and ``/opt/ipcc/guest-init`` (PID 1)
mounts what a Debian system has, prints the runner's marks on the serial console and
runs the suite, whose record is read back from the image with ``debugfs``.
QEMU is ``-M virt -cpu max`` (the CPU model with every translation granule, 16 KiB
included), TCG, ``-no-reboot``; the guest powers off through sysrq when done.

Cache: ``$IPC_GUEST_CACHE`` or ``/var/tmp/ipc-conformance/guests`` (never the work tree).
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import lzma
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterable, Sequence

try:
    import tomllib
except ModuleNotFoundError:    # Python < 3.11
    import tomli as tomllib    # type: ignore[no-redef]

SUITE = "trixie"
MIRROR = "http://deb.debian.org/debian"
SECURITY = "http://deb.debian.org/debian-security"
DEFAULT_CACHE = Path(os.environ.get("IPC_GUEST_CACHE", "/var/tmp/ipc-conformance/guests"))
QEMU = "qemu-system-aarch64"
QEMU_USER = "qemu-aarch64-static"
# what the guest needs besides the minimal base: the interpreter, and a static busybox
# for the initramfs (it runs before the disk is mounted)
PACKAGES = ("python3", "busybox-static")
# modules (by name) the initramfs loads when the kernel has them as modules: the virtio
# transport of -M virt, the disk, its file system (ext4 asks the crypto API for crc32c at
# mount time; there is no modprobe in the initramfs to load it on demand)
INITRAMFS_MODULES = ("virtio_mmio", "virtio_blk", "crc32c_generic", "ext4")
GUEST_DIR = "/opt/ipcc"                 # in the guest: project/, site/, out/, guest-init
BINFMT_NAME = "qemu-aarch64"
BINFMT_CONF = Path("/usr/lib/binfmt.d/qemu-aarch64.conf")
BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
PROJECT_IGNORE = (".git", ".venv", ".tox", "node_modules", "__pycache__", "*.pyc",
                  "*.egg-info", "build", "out")

Say = Callable[[str], None]


def _say(msg: str) -> None:
    print(f"kernels: arm64: {msg}", flush=True)


# --------------------------------------------------------------------------
# What the image is
# --------------------------------------------------------------------------

def image_arch(path: Path) -> str | None:
    """'aarch64' or 'x86_64' from the image's header (gzip'd arm64 Images too), else None."""
    try:
        with open(path, "rb") as f:
            head = f.read(0x240)
            if head[:2] == b"\x1f\x8b":
                f.seek(0)
                with gzip.GzipFile(fileobj=f) as z:
                    head = z.read(0x240)
    except (OSError, EOFError):
        return None
    if len(head) >= 0x3c and head[0x38:0x3c] == b"ARM\x64":
        return "aarch64"
    if len(head) >= 0x206 and head[0x202:0x206] == b"HdrS":
        return "x86_64"
    return None


def page_size_from_config(config: Path | None) -> int | None:
    """The arm64 page size the kernel was built for (CONFIG_ARM64_<N>K_PAGES=y), or None."""
    if config is None or not config.is_file():
        return None
    m = re.search(r"^CONFIG_ARM64_(4|16|64)K_PAGES=y$", config.read_text(errors="replace"), re.M)
    return int(m.group(1)) * 1024 if m else None


# --------------------------------------------------------------------------
# Host tools
# --------------------------------------------------------------------------

def missing_host_tools() -> list[str]:
    """What an arm64 guest needs on the host, each as "tool (Debian package)"."""
    path = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/sbin"
    wanted = [((QEMU,), "qemu-system-arm"), ((QEMU_USER,), "qemu-user-static"),
              (("mmdebstrap", "debootstrap"), "mmdebstrap"), (("mkfs.ext4",), "e2fsprogs"),
              (("debugfs",), "e2fsprogs"), (("chroot",), "coreutils")]
    return [f"{tools[0]} ({pkg})" for tools, pkg in wanted
            if not any(shutil.which(t, path=path) for t in tools)]


def ensure_binfmt(binfmt_dir: Path = BINFMT_DIR, conf: Path = BINFMT_CONF) -> str | None:
    """Make aarch64 executables run through qemu-user (for debootstrap's second stage).
    None when that works, else why not."""
    entry = binfmt_dir / BINFMT_NAME
    if entry.exists():
        return None if entry.read_text().startswith("enabled") else f"{entry} is disabled"
    if not (binfmt_dir / "register").exists():
        done = subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(binfmt_dir)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            return f"binfmt_misc is not mounted and mounting it failed: {done.stderr.strip()}"
    if not conf.is_file():
        return f"{conf} missing (apt-get install qemu-user-static)"
    line = next((l for l in conf.read_text().splitlines() if l.startswith(":")), None)
    if line is None:
        return f"{conf} has no binfmt rule"
    try:
        (binfmt_dir / "register").write_text(line + "\n")
    except OSError as exc:
        return f"registering {BINFMT_NAME} with binfmt_misc failed: {exc}"
    return None


# --------------------------------------------------------------------------
# The userspace, cached
# --------------------------------------------------------------------------

@dataclasses.dataclass
class Userspace:
    root: Path            # the debootstrapped tree

    @property
    def python_version(self) -> str:
        """'3.13' from the tree's /usr/bin/python3 link."""
        link = self.root / "usr" / "bin" / "python3"
        target = os.readlink(link) if link.is_symlink() else ""
        m = re.search(r"python(\d+\.\d+)$", target)
        if not m:
            raise RuntimeError(f"{link}: cannot tell the Python version (link to {target!r})")
        return m.group(1)

    @property
    def glibc_minor(self) -> int:
        status = (self.root / "var" / "lib" / "dpkg" / "status").read_text(errors="replace")
        m = re.search(r"^Package: libc6\n(?:.+\n)*?Version: 2\.(\d+)", status, re.M)
        return int(m.group(1)) if m else 17


def rootfs_dir(cache: Path) -> Path:
    return cache / f"{SUITE}-arm64" / "rootfs"


def run_logged(cmd: Sequence[str], say: Say, **kw) -> None:
    say("$ " + shlex.join(map(str, cmd)))
    subprocess.run(list(map(str, cmd)), check=True, **kw)


def ensure_userspace(cache: Path, say: Say = _say, runner=run_logged) -> Userspace:
    """The cached arm64 Debian tree, made by debootstrap when it is not there yet."""
    root = rootfs_dir(cache)
    stamp = root / ".ipcc-rootfs-complete"
    if stamp.is_file():
        return Userspace(root)
    why = ensure_binfmt()
    if why:
        raise RuntimeError(f"cannot run debootstrap's second stage: {why}")
    partial = root.with_name("rootfs.partial")
    subprocess.run(["rm", "-rf", str(partial)], check=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    say(f"making an arm64 Debian {SUITE} userspace in {root} (once; a few minutes)")
    nice = ["nice", "-n", "10"]
    if shutil.which("mmdebstrap"):
        # the host's apt resolves and downloads, only dpkg runs emulated: debootstrap's
        # second stage parses the Packages files with an emulated perl, for half an hour
        tool = "mmdebstrap"
        runner([*nice, "mmdebstrap", "--mode=root", "--arch=arm64", "--variant=minbase",
                "--include=" + ",".join(PACKAGES), SUITE, partial,
                f"deb {MIRROR} {SUITE} main", f"deb {SECURITY} {SUITE}-security main"], say)
    else:
        tool = "debootstrap"
        runner([*nice, "debootstrap", "--arch=arm64", "--foreign", "--variant=minbase",
                "--include=" + ",".join(PACKAGES), SUITE, partial, MIRROR], say)
        runner([*nice, "chroot", partial, "/debootstrap/debootstrap", "--second-stage"], say)
    (partial / ".ipcc-rootfs-complete").write_text(f"{tool} {SUITE} arm64 minbase "
                                                   + " ".join(PACKAGES) + "\n")
    subprocess.run(["rm", "-rf", str(root)], check=True)
    partial.rename(root)
    return Userspace(root)


def project_requirements(project: Path) -> list[str]:
    data = tomllib.loads((project / "pyproject.toml").read_text())
    return list(data["project"]["dependencies"])


def pip_command(python: Path, target: Path, requirements: Sequence[str], py_version: str,
                glibc_minor: int) -> list[str]:
    """The host pip installing aarch64 wheels for the guest's Python into target."""
    tag = py_version.replace(".", "")
    platforms = ["manylinux2014_aarch64"] + [f"manylinux_2_{n}_aarch64"
                                             for n in range(17, max(glibc_minor, 17) + 1)]
    cmd = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
           "--no-compile", "--target", str(target), "--only-binary=:all:",
           "--python-version", py_version, "--implementation", "cp",
           "--abi", f"cp{tag}", "--abi", "abi3", "--abi", "none"]
    for p in platforms:
        cmd += ["--platform", p]
    return cmd + list(requirements)


def ensure_site(space: Userspace, project: Path, python: Path, say: Say = _say,
                runner=run_logged) -> str:
    """The project's dependencies in the tree (once per dependency list); their guest path."""
    reqs = project_requirements(project)
    key = hashlib.sha256("\n".join([space.python_version, *reqs]).encode()).hexdigest()[:12]
    site = space.root / GUEST_DIR.lstrip("/") / f"site-{key}"
    if not (site / ".ipcc-complete").is_file():
        partial = site.with_name(site.name + ".partial")
        subprocess.run(["rm", "-rf", str(partial)], check=True)
        say(f"installing {', '.join(reqs)} as aarch64 wheels for Python {space.python_version}")
        runner(pip_command(python, partial, reqs, space.python_version, space.glibc_minor), say)
        subprocess.run(["rm", "-rf", str(site)], check=True)
        partial.rename(site)
        # byte-compile with the guest's own interpreter (qemu-user), once: under TCG every
        # xdist worker would otherwise compile pytest and its plugins again at each start
        if ensure_binfmt() is None:
            runner(["nice", "-n", "10", "chroot", space.root, "/usr/bin/python3", "-m",
                    "compileall", "-q", "-j", "0", f"{GUEST_DIR}/{site.name}"], say)
        (site / ".ipcc-complete").write_text("\n".join(reqs) + "\n")
    return f"{GUEST_DIR}/{site.name}"


def copy_project(project: Path, root: Path) -> str:
    """A fresh copy of the work tree (without venvs, caches, outputs) in the tree."""
    dest = root / GUEST_DIR.lstrip("/") / "project"
    subprocess.run(["rm", "-rf", str(dest)], check=True)
    shutil.copytree(project, dest, symlinks=True, ignore=shutil.ignore_patterns(*PROJECT_IGNORE))
    return f"{GUEST_DIR}/project"


# --------------------------------------------------------------------------
# The initramfs: busybox + the kernel's own virtio/ext4 modules
# --------------------------------------------------------------------------

def _modinfo_depends(data: bytes) -> list[str]:
    m = re.search(rb"(?:^|\x00)depends=([^\x00]*)\x00", data)
    return [d for d in m.group(1).decode().split(",") if d] if m else []


def _read_module(path: Path) -> bytes:
    if path.suffix == ".xz":
        return lzma.decompress(path.read_bytes())
    if path.suffix == ".gz":
        return gzip.decompress(path.read_bytes())
    if path.suffix == ".zst":
        return subprocess.run(["zstd", "-dc", str(path)], check=True, capture_output=True).stdout
    return path.read_bytes()


def module_index(moddir: Path) -> dict[str, Path]:
    """module name (dashes as underscores) -> file, for every .ko[.xz|.gz|.zst] under moddir."""
    index = {}
    for p in moddir.rglob("*.ko*"):
        name = re.sub(r"\.ko(\.\w+)?$", "", p.name).replace("-", "_")
        index.setdefault(name, p)
    return index


def modules_to_load(moddir: Path | None, wanted: Iterable[str] = INITRAMFS_MODULES
                    ) -> list[tuple[str, bytes]]:
    """(name, uncompressed .ko) in load order (dependencies first) for the wanted modules
    that the kernel has as modules; built-in or absent ones are left out."""
    if moddir is None or not moddir.is_dir():
        return []
    index = module_index(moddir)
    order: list[tuple[str, bytes]] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        name = name.replace("-", "_")
        if name in seen or name not in index:
            return
        seen.add(name)
        data = _read_module(index[name])
        for dep in _modinfo_depends(data):
            visit(dep)
        order.append((name, data))

    for name in wanted:
        visit(name)
    return order


INITRAMFS_INIT = """#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules.order); do insmod /modules/$m.ko || echo "initramfs: insmod $m failed"; done
n=0; while [ ! -b /dev/vda ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n+1)); done
mkdir -p /newroot
if ! mount -t ext4 /dev/vda /newroot; then
    echo "initramfs: cannot mount /dev/vda"; echo o > /proc/sysrq-trigger; sleep 10
fi
umount /proc /sys; mount --move /dev /newroot/dev
exec switch_root /newroot __GUEST_INIT__
"""


def _cpio_newc(entries: Sequence[tuple[str, int, bytes]]) -> bytes:
    """A newc cpio archive of (name, mode, data); directories have S_IFDIR in mode."""
    out = bytearray()
    for ino, (name, mode, data) in enumerate([*entries, ("TRAILER!!!", 0, b"")], start=1):
        nameb = name.encode() + b"\x00"
        hdr = "070701" + "".join(f"{v:08x}" for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nameb), 0))
        out += hdr.encode() + nameb
        out += b"\x00" * (-len(out) % 4)
        out += data
        out += b"\x00" * (-len(out) % 4)
    return bytes(out)


def build_initramfs(busybox: Path, modules: Sequence[tuple[str, bytes]], dest: Path,
                    guest_init: str) -> Path:
    """A gzip'd newc initramfs: /bin/busybox, /modules/*.ko, /modules.order, /init."""
    d, x, f = 0o040755, 0o100755, 0o100644
    entries = [("bin", d, b""), ("dev", d, b""), ("proc", d, b""), ("sys", d, b""),
               ("modules", d, b""), ("bin/busybox", x, busybox.read_bytes()),
               ("init", x, INITRAMFS_INIT.replace("__GUEST_INIT__", guest_init).encode()),
               ("modules.order", f, "".join(n + "\n" for n, _ in modules).encode())]
    entries += [(f"modules/{n}.ko", f, data) for n, data in modules]
    dest.write_bytes(gzip.compress(_cpio_newc(entries), compresslevel=1))
    return dest


# --------------------------------------------------------------------------
# PID 1 in the guest, and the QEMU command
# --------------------------------------------------------------------------

def guest_init_script(suite_script: str) -> str:
    """/opt/ipcc/guest-init: what a Debian system has mounted, then the suite, then off."""
    return "\n".join([
        "#!/bin/sh",
        "mount -t proc proc /proc; mount -t sysfs sysfs /sys",
        "mkdir -p /dev/pts /dev/shm /dev/mqueue",
        "mount -t devpts devpts /dev/pts; mount -t tmpfs -o mode=1777 tmpfs /dev/shm",
        "mount -t tmpfs -o mode=1777 tmpfs /tmp; mount -t tmpfs tmpfs /run",
        "hostname ipcc-guest 2>/dev/null",
        "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root",
        # the console is a tty: no colour codes in the runner's console.log
        "export PY_COLORS=0 TERM=dumb",
        f"mkdir -p {GUEST_DIR}/out",
        "(",
        suite_script,
        ")",
        "sync; mount -o remount,ro / 2>/dev/null; sync",
        "echo o > /proc/sysrq-trigger",
        "sleep 30",
        "",
    ])


def qemu_command(vmlinuz: Path, initrd: Path, disk: Path, *, memory: str, cpus: int,
                 qemu: str = QEMU) -> list[str]:
    append = "console=ttyAMA0 rdinit=/init panic=-1 quiet loglevel=3 sysrq_always_enabled=1"
    return [qemu, "-M", "virt", "-cpu", "max", "-accel", "tcg,thread=multi",
            "-smp", str(cpus), "-m", memory, "-nographic", "-no-reboot", "-nic", "none",
            "-kernel", str(vmlinuz), "-initrd", str(initrd), "-append", append,
            "-drive", f"file={disk},format=raw,if=none,id=hd0,cache=unsafe",
            "-device", "virtio-blk-device,drive=hd0"]


def dir_size(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


@dataclasses.dataclass
class Plan:
    command: list[str]
    disk: Path
    collect: Callable[[Path], bool]     # copy the guest's out/ into a host dir; True if a record


def prepare(kernel, *, project: Path, python: Path, suite_script: Callable[[str, str, str], str],
            memory: str, cpus: int, cache: Path = DEFAULT_CACHE, say: Say = _say,
            runner=run_logged) -> Plan:
    """Everything for one boot of an arm64 kernel: userspace, project, image, initramfs.

    suite_script(python, project_dir, out_dir) is the sh the guest runs (guest paths)."""
    space = ensure_userspace(cache, say, runner)
    site = ensure_site(space, project, python, say, runner)
    guest_project = copy_project(project, space.root)
    boot = space.root / "boot"
    for old in boot.glob("config-*"):
        old.unlink()
    if kernel.config:
        shutil.copy2(kernel.config, boot / f"config-{kernel.release}")
    out_dir = f"{GUEST_DIR}/out"
    out_host = space.root / out_dir.lstrip("/")
    subprocess.run(["rm", "-rf", str(out_host)], check=True)
    script = suite_script("/usr/bin/python3", guest_project, out_dir)
    script = f"export PYTHONPATH={site}\n{script}"
    init = space.root / GUEST_DIR.lstrip("/") / "guest-init"
    init.write_text(guest_init_script(script))
    init.chmod(0o755)

    work = cache / f"{SUITE}-arm64" / "runs"
    work.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", kernel.release)
    disk = work / f"{safe}.img"
    initrd = work / f"{safe}.initrd.gz"
    disk.unlink(missing_ok=True)
    size_mb = dir_size(space.root) // (1 << 20) + 768
    runner(["mkfs.ext4", "-q", "-F", "-L", "ipcc-root", "-E", "root_owner=0:0",
            "-d", space.root, disk, f"{size_mb}M"], say)
    busybox = space.root / "bin" / "busybox"
    mods = modules_to_load(kernel.moddir)
    build_initramfs(busybox, mods, initrd, f"{GUEST_DIR}/guest-init")
    say(f"initramfs {initrd} (modules: {', '.join(n for n, _ in mods) or 'none, all built in'})")

    def collect(dest: Path) -> bool:
        dest.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["debugfs", "-R", f"rdump {out_dir} {dest}", str(disk)],
                              capture_output=True, text=True)
        got = dest / "out"
        if got.is_dir():
            for item in got.iterdir():
                target = dest / item.name
                if target.is_dir():
                    shutil.rmtree(target)
                elif target.exists():
                    target.unlink()
                item.rename(target)
            got.rmdir()
        elif done.returncode != 0:
            say(f"debugfs rdump failed: {done.stderr.strip()}")
        disk.unlink(missing_ok=True)
        return (dest / "record.json").is_file()

    return Plan(qemu_command(kernel.vmlinuz, initrd, disk, memory=memory, cpus=cpus), disk, collect)
