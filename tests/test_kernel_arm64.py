"""Self-tests of tools.kernels.arm64 and of the runner's arm64 path: no QEMU, no network.

The image header, the initramfs (module order, cpio), the guest's PID 1, the pip and
QEMU commands are checked as data; the whole runner runs one arm64 kernel with a
stand-in for prepare() whose "QEMU" is a small script printing the guest's marks.
"""

from __future__ import annotations

import gzip
import json
import lzma
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tools.kernels import arm64, fetch, run


def arm64_image(path: Path, *, gz: bool = False) -> Path:
    """Enough of an arm64 Image header (magic "ARM\\x64" at 0x38) to be told apart."""
    head = bytearray(0x240)
    head[0x38:0x3c] = b"ARM\x64"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(bytes(head)) if gz else bytes(head))
    return path


def x86_image(path: Path) -> Path:
    head = bytearray(0x240)
    head[0x202:0x206] = b"HdrS"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(head))
    return path


def arm64_package(root: Path, release: str = "6.12.118+deb13-arm64-16k") -> Path:
    """An unpacked Debian 13 arm64 image package (merged /usr: usr/lib/modules)."""
    vmlinuz = arm64_image(root / "boot" / f"vmlinuz-{release}")
    (root / "boot" / f"config-{release}").write_text("CONFIG_ARM64_16K_PAGES=y\n")
    mods = root / "usr" / "lib" / "modules" / release / "kernel"
    for name, depends in (("drivers/virtio/virtio_mmio", ""), ("drivers/block/virtio_blk", ""),
                          ("fs/jbd2/jbd2", "crc16"), ("fs/mbcache", ""), ("lib/crc16", ""),
                          ("fs/ext4/ext4", "mbcache,jbd2,crc16")):
        ko = mods / f"{name}.ko.xz"
        ko.parent.mkdir(parents=True, exist_ok=True)
        ko.write_bytes(lzma.compress(b"\x7fELF...\x00license=GPL\x00depends=" + depends.encode()
                                     + b"\x00name=" + ko.name.split(".")[0].encode() + b"\x00"))
    return vmlinuz


# --------------------------------------------------------------------------
# the image and its package
# --------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
def test_image_arch_reads_the_header(tmp_path, gz):
    assert arm64.image_arch(arm64_image(tmp_path / "Image", gz=gz)) == "aarch64"
    assert arm64.image_arch(x86_image(tmp_path / "bzImage")) == "x86_64"
    (tmp_path / "junk").write_bytes(b"x")
    assert arm64.image_arch(tmp_path / "junk") is None


def test_resolve_an_arm64_package_root(tmp_path):
    arm64_package(tmp_path / "k")
    k = run.resolve_kernel(tmp_path / "k")
    assert (k.arch, k.foreign, k.release) == ("aarch64", run.HOST_ARCH != "aarch64",
                                              "6.12.118+deb13-arm64-16k")
    assert k.moddir.name == k.release and k.bootdir == (tmp_path / "k" / "boot").resolve()
    assert arm64.page_size_from_config(k.bootdir / f"config-{k.release}") == 16384


def test_page_size_from_config_without_one(tmp_path):
    assert arm64.page_size_from_config(None) is None
    (tmp_path / "config").write_text("CONFIG_X86_64=y\n")
    assert arm64.page_size_from_config(tmp_path / "config") is None


# --------------------------------------------------------------------------
# the initramfs
# --------------------------------------------------------------------------


def test_modules_load_dependencies_first_and_skip_built_ins(tmp_path):
    vmlinuz = arm64_package(tmp_path / "k")
    moddir = run.resolve_kernel(vmlinuz).moddir
    names = [n for n, _ in arm64.modules_to_load(moddir)]
    # crc32c_generic is not in this package (built in): left out, not an error
    assert names == ["virtio_mmio", "virtio_blk", "mbcache", "crc16", "jbd2", "ext4"]
    assert all(data.startswith(b"\x7fELF") for _, data in arm64.modules_to_load(moddir))
    assert arm64.modules_to_load(None) == []


def test_initramfs_is_a_newc_archive_with_init_busybox_and_modules(tmp_path):
    busybox = tmp_path / "busybox"
    busybox.write_bytes(b"\x7fELF busybox")
    dest = arm64.build_initramfs(busybox, [("virtio_blk", b"KO1"), ("ext4", b"KO2")],
                                 tmp_path / "initrd.gz", "/opt/ipcc/guest-init")
    cpio = pytest.importorskip("shutil").which("cpio")
    if cpio is None:
        pytest.skip("cpio not installed")
    listing = subprocess.run([cpio, "-t", "--quiet"], input=gzip.decompress(dest.read_bytes()),
                             capture_output=True, check=True).stdout.decode().split()
    assert {"init", "bin/busybox", "modules.order", "modules/virtio_blk.ko",
            "modules/ext4.ko"} <= set(listing)
    out = tmp_path / "x"
    out.mkdir()
    subprocess.run([cpio, "-id", "--quiet"], input=gzip.decompress(dest.read_bytes()), cwd=out,
                   check=True)
    assert (out / "modules.order").read_text() == "virtio_blk\next4\n"
    init = (out / "init").read_text()
    assert "exec switch_root /newroot /opt/ipcc/guest-init" in init
    assert os.access(out / "init", os.X_OK)
    subprocess.run(["sh", "-n", str(out / "init")], check=True)


# --------------------------------------------------------------------------
# the guest's PID 1, pip and QEMU
# --------------------------------------------------------------------------


def test_guest_init_mounts_runs_the_suite_and_powers_off():
    suite = run.guest_script(Path("/usr/bin/python3"), Path("/opt/ipcc/project"),
                             Path("/opt/ipcc/out"), ["-n", "auto"], "6.12.118+deb13-arm64-16k")
    init = arm64.guest_init_script("export PYTHONPATH=/opt/ipcc/site-x\n" + suite)
    subprocess.run(["sh", "-n", "-c", init], check=True)
    for needed in ("mount -t proc", "mode=1777 tmpfs /dev/shm", "tmpfs /tmp",
                   "--record=/opt/ipcc/out/record.json", "echo o > /proc/sysrq-trigger"):
        assert needed in init
    assert init.index("sync") > init.index("pytest exit")


def test_pip_installs_aarch64_wheels_for_the_guests_python(tmp_path):
    cmd = arm64.pip_command(Path("/v/bin/python"), tmp_path / "site", ["pytest>=7.4,<10"],
                            "3.13", 41)
    assert cmd[:4] == ["/v/bin/python", "-m", "pip", "install"]
    assert "--only-binary=:all:" in cmd and cmd[cmd.index("--python-version") + 1] == "3.13"
    platforms = [cmd[i + 1] for i, a in enumerate(cmd) if a == "--platform"]
    assert "manylinux2014_aarch64" in platforms and "manylinux_2_41_aarch64" in platforms
    assert cmd[cmd.index("--target") + 1] == str(tmp_path / "site") and cmd[-1] == "pytest>=7.4,<10"


def test_project_requirements_are_pyprojects():
    reqs = arm64.project_requirements(run.PROJECT)
    assert any(r.startswith("pytest") for r in reqs) and any("posix_ipc" in r for r in reqs)


def test_qemu_command_is_virt_with_cpu_max_under_tcg(tmp_path):
    cmd = arm64.qemu_command(tmp_path / "vmlinuz", tmp_path / "initrd", tmp_path / "disk.img",
                             memory="2G", cpus=2)
    assert cmd[0] == "qemu-system-aarch64"
    assert cmd[cmd.index("-cpu") + 1] == "max"       # the model with the 16K granule
    assert cmd[cmd.index("-accel") + 1].startswith("tcg")
    assert "-no-reboot" in cmd and "console=ttyAMA0" in cmd[cmd.index("-append") + 1]


def test_copy_project_leaves_out_venvs_and_outputs(tmp_path):
    project = tmp_path / "p"
    for rel in ("conftest.py", "suites/pipe/test_x.py", ".venv/bin/python", ".git/HEAD",
                "reports/out/record.json", "suites/__pycache__/x.pyc"):
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text("x")
    guest = arm64.copy_project(project, tmp_path / "root")
    copied = tmp_path / "root" / guest.lstrip("/")
    assert (copied / "suites/pipe/test_x.py").is_file()
    for rel in (".venv", ".git", "reports/out", "suites/__pycache__"):
        assert not (copied / rel).exists(), rel


def test_ensure_binfmt_registers_qemu_user(tmp_path):
    conf = tmp_path / "qemu-aarch64.conf"
    conf.write_text("# comment\n:qemu-aarch64:M::\\x7fELF:\\xff:/usr/libexec/qemu-binfmt/aarch64-binfmt-P:OPF\n")
    binfmt = tmp_path / "binfmt_misc"
    binfmt.mkdir()
    (binfmt / "register").write_text("")
    assert arm64.ensure_binfmt(binfmt, conf) is None
    assert (binfmt / "register").read_text().startswith(":qemu-aarch64:M::")
    (binfmt / "qemu-aarch64").write_text("disabled\n")
    assert "disabled" in arm64.ensure_binfmt(binfmt, conf)


def test_userspace_facts(tmp_path):
    root = tmp_path / "root"
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/python3").symlink_to("python3.13")
    (root / "var/lib/dpkg").mkdir(parents=True)
    (root / "var/lib/dpkg/status").write_text(
        "Package: libc6\nStatus: install ok installed\nArchitecture: arm64\nVersion: 2.41-12\n\n")
    space = arm64.Userspace(root)
    assert space.python_version == "3.13" and space.glibc_minor == 41


@pytest.mark.parametrize("tool", ["mmdebstrap", "debootstrap"])
def test_ensure_userspace_bootstraps_once(tmp_path, monkeypatch, tool):
    """mmdebstrap when the host has it (host apt, emulated dpkg only), else debootstrap
    --foreign and its second stage in a chroot; then the tree is cached."""
    monkeypatch.setattr(arm64, "ensure_binfmt", lambda: None)
    monkeypatch.setattr(arm64.shutil, "which",
                        lambda name, path=None: "/usr/bin/mmdebstrap" if tool == "mmdebstrap"
                        and name == "mmdebstrap" else None)
    calls = []

    def runner(cmd, say):
        calls.append([str(c) for c in cmd])
        target = next((c for c in calls[-1] if c.endswith("rootfs.partial")), None)
        if target and "--second-stage" not in calls[-1]:
            Path(target).mkdir(parents=True)

    space = arm64.ensure_userspace(tmp_path, say=lambda m: None, runner=runner)
    assert space.root == arm64.rootfs_dir(tmp_path) and (space.root / ".ipcc-rootfs-complete").is_file()
    assert tool in calls[0] and "--arch=arm64" in calls[0] and arm64.SUITE in calls[0]
    assert "--include=python3,busybox-static" in calls[0]
    if tool == "debootstrap":
        assert "--foreign" in calls[0]
        assert calls[1][-1] == "--second-stage" and "chroot" in calls[1]
    else:
        assert len(calls) == 1 and "--mode=root" in calls[0]
    calls.clear()
    arm64.ensure_userspace(tmp_path, say=lambda m: None, runner=runner)
    assert calls == []                                   # cached


# --------------------------------------------------------------------------
# the runner, with prepare() and QEMU stood in for
# --------------------------------------------------------------------------

FAKE_QEMU = textwrap.dedent('''\
    #!/bin/sh
    echo "[    1.0] Booting Linux on physical CPU 0x0"
    echo "ipc-conformance-guest: up 6.12.118+deb13-arm64-16k"
    echo "ipc-conformance-guest: pytest exit 1"
''')


def test_runner_boots_an_arm64_kernel_with_its_own_guest(tmp_path, capsys):
    vmlinuz = arm64_package(tmp_path / "k")
    fake_qemu = tmp_path / "qemu"
    fake_qemu.write_text(FAKE_QEMU)
    fake_qemu.chmod(0o755)
    seen = {}

    def preparer(kernel, *, project, python, suite_script, memory, cpus):
        seen["script"] = suite_script("/usr/bin/python3", "/opt/ipcc/project", "/opt/ipcc/out")
        seen["kernel"] = kernel

        def collect(dest):
            (dest / "record.json").write_text(json.dumps({"schema": 1, "host": {
                "arch": "aarch64", "page_size": 16384}}))
            return True

        return arm64.Plan([str(fake_qemu)], tmp_path / "disk.img", collect)

    k = run.resolve_kernel(vmlinuz)
    res = run.run_kernel(k, vng="vng", python=Path(sys.executable), project=run.PROJECT,
                         out=tmp_path / "out", pytest_args=["-n", "auto"], kvm=True, timeout=30,
                         memory="2G", cpus=2, preparer=preparer, echo=False)
    assert res.status == "ok" and res.accel == "tcg" and res.arch == "aarch64"
    assert res.boot_s is not None and res.suite_s is not None
    assert "--timeout=300" in seen["script"]                   # TCG: widened per-test bound
    assert "--record=/opt/ipcc/out/record.json" in seen["script"]
    assert json.loads(Path(res.record).read_text())["host"]["page_size"] == 16384


def test_runner_reports_a_guest_that_could_not_be_prepared(tmp_path, capsys):
    k = run.resolve_kernel(arm64_package(tmp_path / "k"))

    def preparer(kernel, **kw):
        raise RuntimeError("cannot run debootstrap's second stage: binfmt_misc is not mounted")

    res = run.run_kernel(k, vng="vng", python=Path(sys.executable), project=run.PROJECT,
                         out=tmp_path / "out", pytest_args=[], kvm=False, timeout=30,
                         memory="2G", cpus=2, preparer=preparer, echo=False)
    assert res.status == "prepare-failed" and not res.ok
    assert "FAILED prepare-failed" in capsys.readouterr().out


def test_main_names_missing_arm64_tools(tmp_path, capsys, monkeypatch):
    vmlinuz = arm64_package(tmp_path / "k")
    monkeypatch.setattr(run, "HOST_ARCH", "x86_64")
    monkeypatch.setattr(arm64, "missing_host_tools", lambda: ["debootstrap (debootstrap)"])
    assert run.main([str(vmlinuz), "--python", sys.executable, "--out", str(tmp_path / "o")]) == 2
    assert "an arm64 guest needs debootstrap (debootstrap)" in capsys.readouterr().out


def test_dry_run_prints_the_qemu_command_for_arm64(tmp_path, capsys):
    vmlinuz = arm64_package(tmp_path / "k")
    if run.HOST_ARCH == "aarch64":
        pytest.skip("arm64 is native here")
    assert run.main([str(vmlinuz), "--dry-run", "--python", sys.executable,
                     "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "qemu-system-aarch64 -M virt -cpu max" in out
    assert "NOT using KVM" in out


def test_fetch_names_the_arm64_flavours():
    assert fetch.SERIES["6.12-arm64-16k"].flavour == "arm64-16k"
    assert fetch.SERIES["6.12-arm64-16k"].arch == "arm64"
    assert fetch.SERIES["6.12-arm64"].flavour == "arm64"
