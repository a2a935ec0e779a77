"""tools.userspace.run: targets, the project copy, the pip configuration carried in, and the
namespace (run for real on a tiny root when this is root with unshare): the chroot sees its
own /, /proc, /dev/shm, /dev/mqueue, /sys, /tmp, and nothing stays mounted on the host."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tools.userspace import run as us


@pytest.mark.parametrize("text,name,suite", [
    ("debian:11", "debian-11-amd64", "bullseye"),
    ("debian:13", "debian-13-amd64", "trixie"),
    ("debian:12/i386", "debian-12-i386", "bookworm"),
    ("debian:bookworm/arm64", "debian-12-arm64", "bookworm"),
])
def test_targets(text, name, suite):
    """DISTRO:RELEASE[/ARCH] names the chroot and the Debian suite (host architecture by default)."""
    t = us.parse_target(text, host_arch="amd64")
    assert (t.name, t.suite) == (name, suite)


@pytest.mark.parametrize("text", ["ubuntu:24.04", "debian:10", "debian", "debian:12/"])
def test_bad_targets(text):
    """Anything else is refused with the reason."""
    with pytest.raises(us.TargetError):
        us.parse_target(text, host_arch="amd64")


def test_bad_target_exits_2(capsys):
    """A bad target is a usage error, not a failed run."""
    assert us.main(["ubuntu:24.04", "--dry-run"]) == 2
    assert "only debian" in capsys.readouterr().out


def test_copy_keeps_the_venv_and_drops_stale_files(tmp_path):
    """The copy is the checkout as it is now; the venv of the last run stays."""
    project, dest = tmp_path / "project", tmp_path / "copy"
    (project / "fixtures").mkdir(parents=True)
    (project / "fixtures" / "new.py").write_text("new")
    (dest / ".venv" / "bin").mkdir(parents=True)
    (dest / ".venv" / "bin" / "python").write_text("venv")
    (dest / "fixtures").mkdir()
    (dest / "fixtures" / "gone.py").write_text("stale")
    (dest / "olddir" / "deep").mkdir(parents=True)
    us.copy_project(project, dest, files=["fixtures/new.py"])
    left = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert left == [".venv/bin/python", "fixtures/new.py"]
    assert not (dest / "olddir").exists()


def test_pip_configuration_is_carried_in(tmp_path):
    """pip.conf, its directory, the PIP_* environment and the paths they name reach the chroot."""
    conf, xdg = tmp_path / "pip.conf", tmp_path / "xdg"
    cert, links = tmp_path / "ca.crt", tmp_path / "wheels"
    cert.write_text("CA")
    links.mkdir()
    conf.write_text(f"[global]\ncert = {cert}\n# find-links = /nonexistent\n")
    xdg.mkdir()
    (xdg / "pip.conf").write_text("[global]\nconstraint = /does/not/exist\n")
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    env = {"PIP_FIND_LINKS": str(links), "PIP_DEFAULT_TIMEOUT": "60", "HOME": "/root"}
    binds = us.carry_pip_config(root, configs=(str(conf), str(xdg)), environ=env)
    assert binds == [str(links)]
    assert (root / str(cert).lstrip("/")).read_text() == "CA"
    assert (root / str(conf).lstrip("/")).is_file() and (root / str(xdg).lstrip("/") / "pip.conf").is_file()
    assert us.inside_environment(env)["PIP_FIND_LINKS"] == str(links)
    assert "HOME" in us.inside_environment(env) and us.inside_environment(env)["HOME"] == "/root"


def test_inside_script_runs_both_commands_unmodified():
    """The chroot runs ./ipcc run (with the pytest arguments) and ./ipcc test, each exit marked."""
    script = us.inside_script(["-k", "sysv"], selftest=True, personality="linux32")
    assert "setarch linux32 nice -n 10 ./ipcc run -k sysv;" in script
    assert "./ipcc test;" in script
    assert us.marks(f"{us.EXIT_MARK} run exit 1\n{us.EXIT_MARK} test exit 0\n") == {"run": 1, "test": 0}


def test_mountinfo_decodes_escapes(tmp_path):
    """Mount points with spaces are compared decoded."""
    info = tmp_path / "mountinfo"
    info.write_text("36 25 0:32 / /var/tmp/a\\040b rw - tmpfs tmpfs rw\n"
                    "37 25 0:33 / /var/tmp/ab rw - tmpfs tmpfs rw\n")
    assert us.mounted_under(Path("/var/tmp/a b"), str(info)) == ["/var/tmp/a b"]


def _tiny_root(tmp: Path) -> Path:
    """A root with the host's /usr bound in by the namespace script (merged-/usr links)."""
    root = tmp / "root"
    for d in ("usr", "proc", "dev", "sys", "tmp", "etc"):
        (root / d).mkdir(parents=True)
    for link in ("bin", "sbin", "lib", "lib64"):
        if os.path.islink(f"/{link}"):
            os.symlink(os.readlink(f"/{link}"), root / link)
    return root


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None
                    or not all(os.path.islink(p) for p in ("/bin", "/lib")),
                    reason="needs root, util-linux's unshare and a merged-/usr host")
def test_namespace_mounts_and_leaves_nothing(tmp_path):
    """Inside: / is a mount point and /proc, /dev/shm, /dev/mqueue, /sys, /tmp are mounted;
    after: nothing of the root is mounted on the host."""
    root = _tiny_root(tmp_path)
    command = "cat /proc/self/mountinfo; ls /dev; test -c /dev/null && echo NULL-OK"
    done = subprocess.run(us.namespace_command(root, command, binds=["/usr"]),
                          capture_output=True, text=True, timeout=60)
    if done.returncode and "Operation not permitted" in done.stderr:
        pytest.skip(f"mounts refused here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    inside = [line.split()[4] for line in done.stdout.splitlines() if line.count(" - ") == 1]
    for point in ("/", "/proc", "/dev", "/dev/shm", "/dev/mqueue", "/dev/pts", "/sys", "/tmp", "/usr"):
        assert point in inside, f"{point} not mounted inside: {inside}"
    assert "NULL-OK" in done.stdout
    assert not any(p.startswith("/.oldroot") for p in inside), "the host's root stayed visible"
    assert us.mounted_under(root) == [], "mounts of the chroot stayed on the host"


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_copy_of_a_commit(tmp_path):
    """--commit REV copies that commit (git archive), not the work tree's edits."""
    project = tmp_path / "p"
    project.mkdir()
    git = ["git", "-C", str(project), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(git[:3] + ["init", "-q"], check=True)
    (project / "a.txt").write_text("committed")
    subprocess.run(git + ["add", "a.txt"], check=True)
    subprocess.run(git + ["commit", "-qm", "a"], check=True)
    (project / "a.txt").write_text("edited")
    dest = tmp_path / "copy"
    us.copy_project(project, dest, commit="HEAD")
    assert (dest / "a.txt").read_text() == "committed"
