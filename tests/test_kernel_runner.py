"""Self-tests of tools.kernels (run + fetch) with the boot mocked: no QEMU, no network.

A fake ``vng`` (a small script) stands in for virtme-ng so that the real
subprocess, timeout and record-collection paths run, in milliseconds.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tools.kernels import fetch, run

# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def make_kernel(root: Path, release: str, *, modules: bool = True, config: bool = True) -> Path:
    """An unpacked linux-image package as dpkg-deb -x leaves it."""
    boot = root / "boot"
    boot.mkdir(parents=True)
    vmlinuz = boot / f"vmlinuz-{release}"
    vmlinuz.write_bytes(b"MZ fake bzImage")
    if config:
        (boot / f"config-{release}").write_text("CONFIG_MANDATORY_FILE_LOCKING=y\n")
    if modules:
        (root / "lib" / "modules" / release / "kernel").mkdir(parents=True)
    return vmlinuz


FAKE_VNG = textwrap.dedent('''\
    #!{python}
    """Fake vng: behaves like a guest boot according to the kernel's file name."""
    import os, re, subprocess, sys, time
    args = sys.argv[1:]
    kernel = args[args.index("--run") + 1]
    script = args[args.index("--exec") + 1]
    rwdir = args[args.index("--rwdir") + 1] if "--rwdir" in args else None
    with open(os.environ["FAKE_VNG_LOG"], "a") as log:
        log.write(repr(args) + "\\n")
    # the guest runs --exec with /bin/sh: it must at least parse
    subprocess.run(["sh", "-n", "-c", script], check=True)
    name = os.path.basename(kernel)
    # virtme-ng 1.42 takes --rwdir/--rodir paths of these characters only
    for opt in ("--rwdir", "--rodir"):
        for i, a in enumerate(args):
            if a == opt and not re.fullmatch(r"[a-zA-Z0-9_+ /.-]+(=[a-zA-Z0-9_+ /.-]+)?", args[i + 1]):
                print("vng: error: invalid %s parameter %r" % (opt, args[i + 1]))
                sys.exit(1)
    if "broken" in name:
        print("qemu-system-x86_64: kernel panic - not syncing: VFS: Unable to mount root fs")
        sys.exit(1)
    if "slow" in name:
        print("booting slowly", flush=True)
        time.sleep(60)
    if "--disable-kvm" not in args and "nokvm" in os.environ.get("FAKE_VNG_MODE", ""):
        print("qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69")
        sys.exit(255)
    if "--rwdir" not in args:                      # the KVM probe boot
        print("ipc-conformance-guest: probe", flush=True)
        sys.exit(0)
    release = re.sub("^vmlinuz-", "", name)
    print("ipc-conformance-guest: up " + release, flush=True)
    record = re.search(r"--record=([^\\s;']+)", script).group(1)
    assert os.path.realpath(os.path.dirname(record)) == os.path.realpath(rwdir), (record, rwdir)
    if "norecord" not in name and rwdir:
        with open(record, "w") as f:
            f.write('{{"schema": 1, "host": {{"kernel_release": "%s"}}}}\\n' % release)
    rc = 2 if "norecord" in name else 1
    print("ipc-conformance-guest: pytest exit %d" % rc, flush=True)
    sys.exit(rc)
''')

FAKE_PYTHON = textwrap.dedent('''\
    #!/bin/sh
    # Fake project interpreter: "python -m pytest ... --record=P" writes a record,
    # "python -m reports.compare ... --output F" writes F.
    echo "$@" >> "$FAKE_PY_LOG"
    out=""; rec=""
    while [ $# -gt 0 ]; do
      case "$1" in --record=*) rec="${1#--record=}";; --output) out="$2"; shift;; esac; shift
    done
    [ -n "$rec" ] && echo '{"schema": 1, "host": {"kernel_release": "host"}}' > "$rec"
    [ -n "$out" ] && echo "# comparison" > "$out"
    exit 0
''')


@pytest.fixture
def fakes(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    vng = bindir / "vng"
    vng.write_text(FAKE_VNG.format(python=sys.executable))
    vng.chmod(0o755)
    py = bindir / "python"
    py.write_text(FAKE_PYTHON)
    py.chmod(0o755)
    # what vng needs on the host, found beside the fake vng (tool_env puts its directory first)
    for tool in ("busybox", f"qemu-system-{os.uname().machine}", "depmod", "systemd-udevd"):
        (bindir / tool).write_text("#!/bin/sh\nexit 0\n")
        (bindir / tool).chmod(0o755)
    monkeypatch.setattr(run, "UDEVD_PATHS", (str(bindir / "systemd-udevd"),))
    monkeypatch.setenv("FAKE_VNG_LOG", str(tmp_path / "vng.log"))
    monkeypatch.setenv("FAKE_PY_LOG", str(tmp_path / "py.log"))
    (tmp_path / "vng.log").touch()
    (tmp_path / "py.log").touch()
    return {"vng": str(vng), "python": str(py), "tmp": tmp_path}


def vng_calls(tmp_path) -> list[list[str]]:
    import ast
    return [ast.literal_eval(l) for l in (tmp_path / "vng.log").read_text().splitlines()]


# --------------------------------------------------------------------------
# kernel images
# --------------------------------------------------------------------------


def test_resolve_vmlinuz_with_modules_beside_it(tmp_path):
    vmlinuz = make_kernel(tmp_path / "k", "5.10.0-46-amd64")
    k = run.resolve_kernel(vmlinuz)
    assert k.release == "5.10.0-46-amd64"
    assert k.root == (tmp_path / "k").resolve()
    assert k.moddir == (tmp_path / "k" / "lib" / "modules" / "5.10.0-46-amd64").resolve()
    assert k.bootdir == (tmp_path / "k" / "boot").resolve()


def test_resolve_unpacked_package_root(tmp_path):
    make_kernel(tmp_path / "k", "6.1.0-56-amd64")
    assert run.resolve_kernel(tmp_path / "k").release == "6.1.0-56-amd64"


def test_resolve_release_from_modules_when_image_is_unnamed(tmp_path):
    root = tmp_path / "k"
    (root / "lib" / "modules" / "6.12.95+deb12-amd64").mkdir(parents=True)
    (root / "bzImage").write_bytes(b"x")
    assert run.resolve_kernel(root / "bzImage").release == "6.12.95+deb12-amd64"


def test_resolve_without_modules_still_boots_without_them(tmp_path):
    k = run.resolve_kernel(make_kernel(tmp_path / "k", "6.1.0-1-amd64", modules=False, config=False))
    assert k.moddir is None and k.bootdir is None


@pytest.mark.parametrize("what", ["missing", "emptydir", "unnamed"])
def test_resolve_rejects_what_is_not_a_kernel(tmp_path, what):
    target = tmp_path / what
    if what == "emptydir":
        target.mkdir()
    elif what == "unnamed":
        target.write_bytes(b"x")
    with pytest.raises(run.KernelError):
        run.resolve_kernel(target)


# --------------------------------------------------------------------------
# command construction
# --------------------------------------------------------------------------


def test_guest_script_is_sh_and_uses_absolute_paths(tmp_path):
    script = run.guest_script(Path("/p/.venv/bin/python"), Path("/p"), tmp_path / "out",
                              ["-n", "auto", "-k", "pipe and not slow"], "5.10.0-46-amd64")
    subprocess.run(["sh", "-n", "-c", script], check=True)
    assert "/p/.venv/bin/python -m pytest" in script
    assert f"--record={tmp_path / 'out' / 'record.json'}" in script
    assert "'pipe and not slow'" in script            # quoted for /bin/sh
    assert "mount -t mqueue" in script                 # the guest has no /dev/mqueue
    assert "ln -sfn /proc/self/fd/1 /dev/stdout" in script   # virtme-ng points it at a port
    assert "TMPDIR=/tmp" in script                     # writable overlay, not the 9p rwdir
    assert "cd /p" in script


def test_guest_script_passes_exit_status_back(tmp_path):
    """The script's own exit is pytest's: run it with a stand-in interpreter."""
    fake = tmp_path / "py"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    script = run.guest_script(fake, tmp_path, tmp_path, [], "r")
    script = script.replace("mkdir -p /dev/mqueue && mount -t mqueue mqueue /dev/mqueue 2>/dev/null",
                            "true")
    script = re.sub(r"ln -sfn /proc/self/fd/\d /dev/std\w+", "true", script)
    assert "/dev/std" not in script                    # never touch the host's /dev here
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
    assert done.returncode == 3
    assert "ipc-conformance-guest: pytest exit 3" in done.stdout


def test_vng_command_kvm_and_tcg(tmp_path):
    k = run.resolve_kernel(make_kernel(tmp_path / "k", "5.10.0-46-amd64"))
    out = tmp_path / "out"
    tcg = run.vng_command("vng", k, "true", out, kvm=False, memory="2G", cpus=2, project=tmp_path)
    kvm = run.vng_command("vng", k, "true", out, kvm=True, memory="2G", cpus=2, project=tmp_path)
    assert "--disable-kvm" in tcg and "--disable-kvm" not in kvm
    assert tcg[tcg.index("--run") + 1] == str(k.vmlinuz)
    assert tcg[tcg.index("--rwdir") + 1] == str(out)
    assert tcg[tcg.index("--rodir") + 1] == f"/boot={k.bootdir}"
    assert tcg[-2:] == ["--exec", "true"]


def test_tool_env_puts_vng_dir_and_sbin_on_path(monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin")
    path = run.tool_env("/opt/venv/bin/vng")["PATH"].split(os.pathsep)
    assert path[0] == "/opt/venv/bin" and "/usr/sbin" in path


def test_split_argv_hands_the_rest_to_pytest():
    assert run.split_argv(["k1", "--", "-k", "pipe"]) == (["k1"], ["-k", "pipe"])
    assert run.split_argv(["k1"]) == (["k1"], None)


# --------------------------------------------------------------------------
# bounded runs and classification
# --------------------------------------------------------------------------


def test_run_bounded_pipes_logs_and_kills_the_group_on_timeout(tmp_path):
    log = tmp_path / "console.log"
    seen = []
    done = run.run_bounded(["sh", "-c", "echo booting; sleep 30 & sleep 30"], 1.0, log=log,
                           echo=seen.append, mark="boot")
    assert done.timed_out and done.returncode is None
    assert "booting" in done.output and log.read_text() == done.output
    assert seen == ["booting"]
    assert done.mark_s is not None and done.mark_s < 1.0
    assert done.elapsed < 20


def test_run_bounded_kills_what_never_prints_its_mark(tmp_path):
    """A guest that never boots (QEMU in the firmware) is killed at the boot bound, not the
    run's; once the mark has come, only the run's bound applies."""
    done = run.run_bounded(["sh", "-c", "echo firmware; sleep 30"], 20, mark="up", mark_timeout=0.5)
    assert done.timed_out and done.mark_missed and done.elapsed < 10
    done = run.run_bounded(["sh", "-c", "echo up; sleep 1; echo done"], 20, mark="up",
                           mark_timeout=0.5)
    assert not done.timed_out and not done.mark_missed and done.returncode == 0
    assert done.output.splitlines() == ["up", "done"]


def test_run_bounded_missing_program():
    done = run.run_bounded(["/nonexistent/vng"], 5)
    assert done.returncode == 127 and not done.timed_out


def _done(output="", rc=0, timed_out=False):
    return run.Completed(None if timed_out else rc, output, 1.0, timed_out)


def test_classify(tmp_path):
    rec = tmp_path / "record.json"
    up = "ipc-conformance-guest: up 5.10\n"
    assert run.classify(_done("Kernel panic\n", 1), rec, 10)[0] == "boot-failed"
    assert "Kernel panic" in run.classify(_done("Kernel panic\n", 1), rec, 10)[1]
    assert run.classify(_done("", timed_out=True), rec, 10)[0] == "timeout"
    assert "never started" in run.classify(_done("", timed_out=True), rec, 10)[1]
    assert run.classify(_done(up + "ipc-conformance-guest: pytest exit 4\n", 4), rec, 10)[0] \
        == "no-record"
    rec.write_text("{}")
    assert run.classify(_done(up + "ipc-conformance-guest: pytest exit 1\n", 1), rec, 10) \
        == ("ok", "pytest exit 1", 1)
    assert run.classify(_done(up + "ipc-conformance-guest: pytest exit 3\n", 3), rec, 10)[0] \
        == "suite-failed"


def test_probe_kvm_falls_back_with_a_reason(tmp_path, fakes, monkeypatch):
    k = run.resolve_kernel(make_kernel(tmp_path / "k", "6.1.0-56-amd64"))
    monkeypatch.setattr(run, "kvm_accessible", lambda dev="/dev/kvm": True)
    assert run.probe_kvm(fakes["vng"], k)[0] is True
    monkeypatch.setenv("FAKE_VNG_MODE", "nokvm")
    ok, why = run.probe_kvm(fakes["vng"], k)
    assert ok is False and "MSR" in why
    monkeypatch.setattr(run, "kvm_accessible", lambda dev="/dev/kvm": False)
    assert run.probe_kvm(fakes["vng"], k) == (False, "/dev/kvm is absent or not readable and writable")


# --------------------------------------------------------------------------
# the whole command, with the fake vng
# --------------------------------------------------------------------------


def test_main_collects_records_and_survives_a_kernel_that_does_not_boot(tmp_path, fakes, capsys):
    good = make_kernel(tmp_path / "a", "5.10.0-46-amd64")
    bad = make_kernel(tmp_path / "b", "6.1.0-broken-amd64")
    good2 = make_kernel(tmp_path / "c", "6.12.95+deb12-amd64")
    out = tmp_path / "out"
    rc = run.main([str(good), str(bad), str(good2), "--out", str(out), "--vng", fakes["vng"],
                   "--python", fakes["python"], "--kvm", "no", "--timeout", "30",
                   "--", "-n", "2", "suites/pipe"])
    text = capsys.readouterr().out
    assert rc == 1                                           # one kernel failed
    assert "NOT using KVM" in text and "--disable-kvm" in text and "TCG" in text
    assert "6.1.0-broken-amd64: FAILED boot-failed" in text
    assert "kernel panic" in text
    for release in ("5.10.0-46-amd64", "6.12.95+deb12-amd64"):
        assert json.loads((out / release / "record.json").read_text())["host"]["kernel_release"] \
            == release
        assert "ipc-conformance-guest: up" in (out / release / "console.log").read_text()
    assert (out / "host" / "record.json").is_file()
    assert (out / "comparison.md").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert [k["status"] for k in summary["kernels"]] == ["ok", "boot-failed", "ok"]
    assert summary["accel"] == "tcg"
    # every boot was one guest at a time, TCG, with pytest's arguments inside
    calls = vng_calls(fakes["tmp"])
    assert len(calls) == 3 and all("--disable-kvm" in c for c in calls)
    assert all("-n 2 suites/pipe --timeout=300 --record=" in c[c.index("--exec") + 1] for c in calls)
    # the comparison got the host first, then only the kernels that produced a record
    compare_line = [l for l in (fakes["tmp"] / "py.log").read_text().splitlines()
                    if "reports.compare" in l][0].split()
    recs = [a for a in compare_line if a.endswith("record.json")]
    assert recs == [str(out / "host" / "record.json"), str(out / "5.10.0-46-amd64" / "record.json"),
                    str(out / "6.12.95+deb12-amd64" / "record.json")]


def test_main_timeout_does_not_stop_the_others(tmp_path, fakes, capsys):
    slow = make_kernel(tmp_path / "a", "6.1.0-slow-amd64")
    good = make_kernel(tmp_path / "b", "6.1.0-56-amd64")
    out = tmp_path / "out"
    rc = run.main([str(slow), str(good), "--out", str(out), "--vng", fakes["vng"], "--python",
                   fakes["python"], "--kvm", "no", "--timeout", "2", "--no-host", "--no-compare"])
    text = capsys.readouterr().out
    assert rc == 1
    assert "6.1.0-slow-amd64: FAILED timeout" in text
    assert (out / "6.1.0-56-amd64" / "record.json").is_file()


def test_main_kernel_that_does_not_boot_in_time(tmp_path, fakes, capsys):
    slow = make_kernel(tmp_path / "a", "6.1.0-slow-amd64")     # the fake prints nothing for 60 s
    good = make_kernel(tmp_path / "b", "6.1.0-56-amd64")
    out = tmp_path / "out"
    rc = run.main([str(slow), str(good), "--out", str(out), "--vng", fakes["vng"], "--python",
                   fakes["python"], "--kvm", "no", "--boot-timeout", "1", "--no-host",
                   "--no-compare"])
    text = capsys.readouterr().out
    assert rc == 1
    assert "6.1.0-slow-amd64: FAILED boot-timeout: the guest did not start the suite within" in text
    assert (out / "6.1.0-56-amd64" / "record.json").is_file()


def test_main_no_record_is_a_failure(tmp_path, fakes, capsys):
    k = make_kernel(tmp_path / "a", "6.1.0-norecord-amd64")
    rc = run.main([str(k), "--out", str(tmp_path / "out"), "--vng", fakes["vng"], "--python",
                   fakes["python"], "--kvm", "no", "--no-host", "--no-compare"])
    assert rc == 1
    assert "FAILED no-record" in capsys.readouterr().out


def test_main_kvm_auto_probes_then_uses_kvm(tmp_path, fakes, capsys, monkeypatch):
    k = make_kernel(tmp_path / "a", "6.1.0-56-amd64")
    monkeypatch.setattr(run, "kvm_accessible", lambda dev="/dev/kvm": True)
    rc = run.main([str(k), "--out", str(tmp_path / "out"), "--vng", fakes["vng"], "--python",
                   fakes["python"], "--no-host", "--no-compare"])
    assert rc == 0
    assert "using KVM" in capsys.readouterr().out
    calls = vng_calls(fakes["tmp"])
    assert len(calls) == 2 and not any("--disable-kvm" in c for c in calls)


def test_main_host_record_is_the_baseline(tmp_path, fakes):
    k = make_kernel(tmp_path / "a", "5.10.0-46-amd64")
    host = tmp_path / "host.json"
    host.write_text("{}")
    rc = run.main([str(k), "--out", str(tmp_path / "out"), "--vng", fakes["vng"], "--python",
                   fakes["python"], "--kvm", "no", "--host-record", str(host)])
    assert rc == 0
    lines = (fakes["tmp"] / "py.log").read_text().splitlines()
    assert not any("-m pytest" in l for l in lines)           # the host suite did not run
    assert any(l.startswith(f"-m reports.compare {host} ") for l in lines)


@pytest.mark.parametrize("argv, message", [
    (["/nonexistent/vmlinuz-1.2.3"], "no such kernel image"),
    (["--kvm", "maybe", "k"], ""),
])
def test_main_usage_errors_exit_2(argv, message, capsys, fakes):
    assert run.main(argv + ["--python", fakes["python"]]) == 2
    captured = capsys.readouterr()
    assert message in captured.out + captured.err


def test_main_missing_interpreter_exits_2(tmp_path, capsys):
    k = make_kernel(tmp_path / "a", "5.10.0-46-amd64")
    assert run.main([str(k), "--python", str(tmp_path / "nope")]) == 2
    assert "pip install -e ." in capsys.readouterr().out


def test_main_names_missing_host_tools_before_booting(tmp_path, fakes, capsys, monkeypatch):
    """Without busybox vng cannot build an initramfs: say so, rather than blame KVM."""
    k = make_kernel(tmp_path / "a", "5.10.0-46-amd64")
    monkeypatch.setattr(run.shutil, "which",
                        lambda name, path=None: None if "busybox" in name else "/bin/" + name)
    rc = run.main([str(k), "--out", str(tmp_path / "out"), "--vng", fakes["vng"],
                   "--python", fakes["python"]])
    assert rc == 2
    assert "busybox (busybox-static)" in capsys.readouterr().out
    assert vng_calls(fakes["tmp"]) == []


def test_missing_udevd_is_named(tmp_path, fakes, monkeypatch):
    """Without udevd the guest's output never reaches vng's stdout."""
    monkeypatch.setattr(run, "UDEVD_PATHS", (str(tmp_path / "none"),))
    assert run.missing_host_tools(fakes["vng"]) == ["systemd-udevd (udev)"]


def test_no_kernel_given_fetches_debians(tmp_path, fakes, capsys, monkeypatch):
    """One command on a machine with no kernel images: the runner fetches Debian's own."""
    images = [make_kernel(tmp_path / r, r) for r in ("5.10.0-46-amd64", "6.1.0-57-amd64",
                                                     "6.12.95+deb12-amd64")]
    asked = {}

    def fake_fetch(series, cache, update=True):
        asked.update(series=series, cache=cache)
        return dict(zip(series, images))

    monkeypatch.setattr(run.fetch, "fetch_named", fake_fetch)
    rc = run.main(["--dry-run", "--cache", str(tmp_path / "cache"), "--out", str(tmp_path / "out"),
                   "--vng", fakes["vng"], "--python", fakes["python"]])
    assert rc == 0
    assert asked == {"series": list(run.fetch.DEFAULT_SERIES), "cache": tmp_path / "cache"}
    out = capsys.readouterr().out
    assert all(str(i) in out for i in images)


def test_no_kernel_and_fetch_fails_exits_2(tmp_path, fakes, capsys, monkeypatch):
    def failing(series, cache, update=True):
        raise subprocess.CalledProcessError(100, ["apt-get", "update"])

    monkeypatch.setattr(run.fetch, "fetch_named", failing)
    assert run.main(["--dry-run", "--python", fakes["python"], "--vng", fakes["vng"]]) == 2
    assert "fetching kernels failed" in capsys.readouterr().out


def test_dry_run_prints_commands_and_boots_nothing(tmp_path, fakes, capsys):
    k = make_kernel(tmp_path / "a", "5.10.0-46-amd64")
    rc = run.main([str(k), "--dry-run", "--out", str(tmp_path / "out"), "--vng", fakes["vng"],
                   "--python", fakes["python"]])
    assert rc == 0
    line = [l for l in capsys.readouterr().out.splitlines() if l.startswith(fakes["vng"])][0]
    assert "--disable-kvm" in shlex.split(line)
    assert vng_calls(fakes["tmp"]) == []


def test_cli_entry_point_help():
    done = subprocess.run([sys.executable, "-m", "tools.kernels.run", "--help"],
                          capture_output=True, text=True, cwd=run.PROJECT)
    assert done.returncode == 0 and "KERNEL" in done.stdout


# --------------------------------------------------------------------------
# fetch
# --------------------------------------------------------------------------

SHOW = textwrap.dedent("""\
    Package: linux-image-amd64
    Version: 6.12.95-1~bpo12+1
    Depends: linux-image-6.12.95+deb12-amd64 (= 6.12.95-1~bpo12+1)

    Package: linux-image-amd64
    Version: 6.1.192-2
    Depends: linux-image-6.1.0-56-amd64 (= 6.1.192-2)

    Package: linux-image-amd64
    Version: 6.1.176-1
    Depends: linux-image-6.1.0-50-amd64 (= 6.1.176-1)

    Package: linux-image-amd64
    Version: 5.10.223-1
    Depends: linux-image-5.10.0-32-amd64 (= 5.10.223-1)

    Package: linux-image-amd64
    Version: 5.10.262-1
    Depends: linux-image-5.10.0-46-amd64 (= 5.10.262-1)
    """)


def test_fetch_picks_the_newest_unsigned_image_per_series():
    pairs = fetch.parse_metapackage(SHOW)
    assert fetch.pick_package("5.10", pairs) == "linux-image-5.10.0-46-amd64-unsigned"
    assert fetch.pick_package("6.1", pairs) == "linux-image-6.1.0-56-amd64-unsigned"   # not 6.12
    assert fetch.pick_package("6.12", pairs) == "linux-image-6.12.95+deb12-amd64-unsigned"
    assert fetch.pick_package("4.19", pairs) is None


@pytest.mark.parametrize("arch", ["amd64", "arm64"])
def test_fetch_apt_is_private(tmp_path, arch):
    opts = fetch.apt_options(tmp_path, arch)
    values = dict(o.split("=", 1) for o in opts if "=" in o and o.startswith("Dir"))
    for key in ("Dir::Etc::sourcelist", "Dir::Etc::sourceparts", "Dir::State::lists",
                "Dir::State::status", "Dir::Cache"):
        assert key in values
    assert values["Dir::Etc::sourcelist"] == str(fetch.sources_list(arch))
    for key, value in values.items():
        if key != "Dir::Etc::sourcelist" and value:
            assert value.startswith(str(tmp_path)), key        # never /etc/apt or /var/lib/apt
    assert f"APT::Architecture={arch}" in opts
    fetch.prepare_apt_dirs(tmp_path, arch)
    assert (tmp_path / "apt" / arch / "status").read_text() == ""


def test_fetch_sources_cover_every_series():
    """Each series' suites are in its architecture's private sources list."""
    for series in fetch.SERIES.values():
        lines = [l for l in fetch.sources_list(series.arch).read_text().splitlines()
                 if l.startswith("deb ")]
        assert set(series.suites) <= {l.split()[3] for l in lines}, series.name
        assert all("signed-by=/usr/share/keyrings/debian-archive-keyring.gpg" in l for l in lines)


def test_fetch_default_cache_is_outside_the_work_tree():
    assert not str(fetch.DEFAULT_CACHE).startswith(str(run.PROJECT))


def test_interpreter_hidden_from_the_guest_is_refused(tmp_path, capsys, monkeypatch):
    k = make_kernel(tmp_path / "a", "5.10.0-46-amd64")
    monkeypatch.setattr(run, "GUEST_HIDDEN", run.GUEST_HIDDEN + (str(tmp_path),))
    py = tmp_path / "python"
    py.write_text("#!/bin/sh\n")
    assert run.main([str(k), "--python", str(py), "--dry-run"]) == 2
    assert "hides from the guest" in capsys.readouterr().out


def test_hidden_in_guest():
    assert run.hidden_in_guest(Path("/var/tmp/venv/bin/python")) == "/var/tmp"
    assert run.hidden_in_guest(Path("/var/tmpfoo/python")) is None
    assert run.hidden_in_guest(Path("/work/main/.venv/bin/python")) is None


def test_tcg_widens_the_per_test_timeout_unless_chosen():
    assert run.with_test_timeout(["-n", "auto"], kvm=False)[-1] == f"--timeout={run.TCG_TEST_TIMEOUT}"
    assert run.with_test_timeout(["-n", "auto"], kvm=True) == ["-n", "auto"]
    assert run.with_test_timeout(["--timeout", "9"], kvm=False) == ["--timeout", "9"]
    assert run.with_test_timeout(["--timeout=9"], kvm=False) == ["--timeout=9"]


# --------------------------------------------------------------------------
# series names on the command line, and paths with a Debian version string
# --------------------------------------------------------------------------

DEB_ROOT = "linux-image-6.12.117+deb12-amd64-unsigned_6.12.117-1~deb12u1_amd64"


def test_split_kernel_args_names_and_paths(tmp_path, monkeypatch):
    """A known series name is fetched; anything else, or a name that exists here, is a path."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "6.1").mkdir()
    names, paths = run.split_kernel_args(["6.12", "sid", "6.12-arm64-16k", "6.1", "x/vmlinuz-1"])
    assert names == ["6.12", "sid", "6.12-arm64-16k"]
    assert paths == ["6.1", "x/vmlinuz-1"]


def test_main_fetches_named_series_and_keeps_the_order(tmp_path, fakes, capsys, monkeypatch):
    mine = make_kernel(tmp_path / "mine", "6.6.0-custom")
    images = {"6.12": make_kernel(tmp_path / "a", "6.12.95+deb12-amd64"),
              "sid": make_kernel(tmp_path / "b", "6.17.8-amd64")}
    asked = {}

    def fake_fetch(series, cache, update=True):
        asked.update(series=list(series), cache=cache)
        return {n: images[n] for n in series}

    monkeypatch.setattr(run.fetch, "fetch_named", fake_fetch)
    rc = run.main(["sid", str(mine), "6.12", "--dry-run", "--cache", str(tmp_path / "cache"),
                   "--out", str(tmp_path / "out"), "--vng", fakes["vng"], "--python", fakes["python"]])
    assert rc == 0
    assert asked == {"series": ["sid", "6.12"], "cache": tmp_path / "cache"}
    runs = [shlex.split(l) for l in capsys.readouterr().out.splitlines() if l.startswith(fakes["vng"])]
    assert [r[r.index("--run") + 1] for r in runs] == [str(images["sid"]), str(mine), str(images["6.12"])]


def test_main_names_a_series_that_could_not_be_fetched(tmp_path, fakes, capsys, monkeypatch):
    monkeypatch.setattr(run.fetch, "fetch_named", lambda series, cache, update=True: {})
    assert run.main(["6.12-arm64", "--dry-run", "--vng", fakes["vng"], "--python",
                     fakes["python"], "--cache", str(tmp_path)]) == 2
    assert "no kernel could be fetched for 6.12-arm64" in capsys.readouterr().out


def test_unknown_name_lists_the_series(capsys, fakes):
    assert run.main(["6.13", "--python", fakes["python"]]) == 2
    out = capsys.readouterr().out
    assert "6.13: no such kernel image" in out and "6.12-arm64-16k" in out


def test_vng_safe_stages_a_path_virtme_ng_refuses(tmp_path):
    boot = tmp_path / "pkgs" / DEB_ROOT / "boot"
    boot.mkdir(parents=True)
    odd = tmp_path / "epoch:1" / "out"
    odd.mkdir(parents=True)
    staging = tmp_path / "staging"
    for path in (boot, odd):
        staged = run.vng_safe(path, staging)
        assert run.VNG_SAFE_PATH.fullmatch(str(staged)), staged
        assert staged.resolve() == path.resolve()
        assert run.vng_safe(path, staging) == staged          # the same link next time
    plain = tmp_path / "plain+ok"
    assert run.vng_safe(plain, staging) == plain              # nothing staged when not needed


def test_vng_safe_matches_virtme_ngs_own_check():
    """Our pattern is virtme-ng's (when it is installed here)."""
    vng_run = pytest.importorskip("virtme.commands.run")
    assert vng_run._SAFE_PATH_PATTERN == run.VNG_SAFE_PATH.pattern


def test_main_boots_a_package_root_whose_path_has_a_debian_version(tmp_path, fakes, capsys):
    """The unpacked package as given (…-1~deb12u1_amd64): --rodir and --rwdir pass vng's check."""
    root = tmp_path / DEB_ROOT
    make_kernel(root, "6.12.117+deb12-amd64")
    out = tmp_path / "out~1"
    rc = run.main([str(root), "--out", str(out), "--vng", fakes["vng"], "--python", fakes["python"],
                   "--kvm", "no", "--no-host", "--no-compare"])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert json.loads((out / "6.12.117+deb12-amd64" / "record.json").read_text())["host"][
        "kernel_release"] == "6.12.117+deb12-amd64"
    call = vng_calls(fakes["tmp"])[0]
    assert (Path(call[call.index("--rodir") + 1].split("=", 1)[1]).resolve()
            == (root / "boot").resolve())


def test_resolve_merged_usr_package_root(tmp_path):
    """Debian 13's packages put the modules in usr/lib/modules."""
    root = tmp_path / "k"
    (root / "boot").mkdir(parents=True)
    (root / "boot" / "vmlinuz-6.12.118+deb13-amd64").write_bytes(b"x")
    (root / "boot" / "config-6.12.118+deb13-amd64").write_text("")
    (root / "usr" / "lib" / "modules" / "6.12.118+deb13-amd64").mkdir(parents=True)
    k = run.resolve_kernel(root)
    assert k.moddir == (root / "usr" / "lib" / "modules" / "6.12.118+deb13-amd64").resolve()
    assert k.bootdir == (root / "boot").resolve()


# --------------------------------------------------------------------------
# boot and suite time
# --------------------------------------------------------------------------


def test_run_bounded_times_the_end_mark():
    done = run.run_bounded(["sh", "-c", "echo up; sleep 0.5; echo end"], 20, mark="up",
                           mark_timeout=10, end_mark="end")
    assert done.mark_s is not None and done.end_s is not None
    # ordered, within the run (not a lower bound on the gap: a loaded machine reads "up" late)
    assert 0 < done.end_s - done.mark_s and done.end_s <= done.elapsed


def test_summary_reports_boot_and_suite_time_per_kernel(tmp_path, fakes, capsys):
    k = make_kernel(tmp_path / "a", "6.1.0-56-amd64")
    out = tmp_path / "out"
    assert run.main([str(k), "--out", str(out), "--vng", fakes["vng"], "--python", fakes["python"],
                     "--kvm", "no", "--no-host", "--no-compare"]) == 0
    text = capsys.readouterr().out
    table = text[text.index("kernels: summary:"):].splitlines()[1:]
    assert table[0].split()[:6] == ["kernel", "arch", "status", "boot", "suite", "total"]
    assert table[1].split()[:3] == ["6.1.0-56-amd64", run.HOST_ARCH, "ok"]
    entry = json.loads((out / "summary.json").read_text())["kernels"][0]
    assert entry["boot_s"] is not None and entry["suite_s"] is not None
    assert entry["suite_s"] <= entry["elapsed_s"]


def test_summary_table_without_times():
    r = run.Result("6.1.0-broken", "/k", "boot-failed", "vng exited 1", 3.0, "tcg")
    header, line = run.summary_table([r])
    assert line.split()[:6] == ["6.1.0-broken", run.HOST_ARCH, "boot-failed", "-", "-", "3"]


MADISON = textwrap.dedent("""\
    linux-image-amd64 | 6.17.8-1 | http://deb.debian.org/debian sid/main amd64 Packages
    linux-image-amd64 | 6.12.95-1~bpo12+1 | http://deb.debian.org/debian bookworm-backports/main amd64 Packages
    linux-image-amd64 | 6.1.192-2 | http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
    linux-image-amd64 | 6.1.176-1 | http://deb.debian.org/debian bookworm/main amd64 Packages
    linux-image-amd64 | 5.10.262-1 | http://deb.debian.org/debian-security bullseye-security/main amd64 Packages
    """)
SHOW_SID = SHOW + textwrap.dedent("""\

    Package: linux-image-amd64
    Version: 6.17.8-1
    Depends: linux-base-amd64 (= 6.17.8-1), linux-image-6.17.8+deb14-amd64 (= 6.17.8-1)
    """)


def test_fetch_parses_madison_suites():
    pairs = fetch.parse_madison(MADISON)
    assert ("6.17.8-1", "sid") in pairs and ("6.1.192-2", "bookworm-security") in pairs
    assert ("6.12.95-1~bpo12+1", "bookworm-backports") in pairs and len(pairs) == 5


@pytest.mark.parametrize("name, package", [
    ("sid", "linux-image-6.17.8+deb14-amd64-unsigned"),
    ("6.12", "linux-image-6.12.95+deb12-amd64-unsigned"),
    ("6.1", "linux-image-6.1.0-56-amd64-unsigned"),
    ("5.10", "linux-image-5.10.0-46-amd64-unsigned"),
])
def test_fetch_picks_by_suite(name, package):
    pairs, suites = fetch.parse_metapackage(SHOW_SID), fetch.parse_madison(MADISON)
    assert fetch.pick_package(fetch.SERIES[name], pairs, suites) == package


def test_fetch_sid_is_only_unstables():
    """sid is unstable's newest, not the newest of every suite listed."""
    suites = [(v, s) for v, s in fetch.parse_madison(MADISON) if s != "sid"]
    assert fetch.pick_package(fetch.SERIES["sid"], fetch.parse_metapackage(SHOW_SID), suites) is None


def test_fetch_refuses_unknown_series(tmp_path):
    with pytest.raises(ValueError, match="6.13"):
        fetch.fetch(["6.13"], tmp_path)
    assert fetch.main(["6.13", "--cache", str(tmp_path)]) == 2


def test_fetch_6_12_takes_bookworms_own_6_12_line_too():
    """bookworm-security carries linux-image-6.12-amd64 (6.12.117-1~deb12u1), newer than backports'."""
    show = SHOW + textwrap.dedent("""\

        Package: linux-image-6.12-amd64
        Version: 6.12.117-1~deb12u1
        Depends: linux-image-6.12.117+deb12-amd64 (= 6.12.117-1~deb12u1)
        """)
    madison = MADISON + ("linux-image-6.12-amd64 | 6.12.117-1~deb12u1 | http://deb.debian.org/"
                         "debian-security bookworm-security/main amd64 Packages\n")
    series = fetch.SERIES["6.12"]
    assert "linux-image-6.12-amd64" in series.metapackages
    assert fetch.pick_package(series, fetch.parse_metapackage(show), fetch.parse_madison(madison)) \
        == "linux-image-6.12.117+deb12-amd64-unsigned"


def test_fetch_split_image_packages_name_their_parts():
    """sid's linux-image-7.2.13+deb14-amd64 holds no vmlinuz: the binary (unsigned first),
    the modules and the base files come from the packages it depends on."""
    depends = ("dracut | initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool, "
               "linux-base-7.2.13+deb14-amd64 (= 7.2.13-1), linux-binary-7.2.13+deb14-amd64 "
               "(= 7.2.13-1), linux-modules-7.2.13+deb14-amd64 (= 7.2.13-1)")
    assert fetch.split_parts(depends, "7.2.13+deb14-amd64") == [
        ("linux-base-7.2.13+deb14-amd64",),
        ("linux-binary-unsigned-7.2.13+deb14-amd64", "linux-binary-7.2.13+deb14-amd64"),
        ("linux-modules-7.2.13+deb14-amd64",)]
    assert fetch.split_parts("linux-base (>= 4.17~)", "6.12.118+deb13-amd64") == []


def test_fetch_gives_a_split_package_the_classic_boot_files(tmp_path):
    release = "7.2.13+deb14-amd64"
    moddir = tmp_path / "usr" / "lib" / "modules" / release
    moddir.mkdir(parents=True)
    for name in ("vmlinuz.unsigned", "config", "System.map"):
        (moddir / name).write_text(name)
    fetch.classic_boot(tmp_path, release)
    assert fetch.find_vmlinuz(tmp_path) == tmp_path / "boot" / f"vmlinuz-{release}"
    k = run.resolve_kernel(tmp_path)
    assert (k.release, k.moddir, k.bootdir) == (release, moddir.resolve(), (tmp_path / "boot").resolve())
    assert (k.bootdir / f"config-{release}").read_text() == "config"


def test_resolve_a_split_package_root_as_unpacked(tmp_path):
    """dpkg-deb -x of sid's linux-binary-unsigned-R and linux-modules-R: no boot/, the image
    and config in usr/lib/modules/R; the guest gets the config as /boot/config-R."""
    release = "7.2.13+deb14-amd64"
    moddir = tmp_path / "pkg" / "usr" / "lib" / "modules" / release
    moddir.mkdir(parents=True)
    (moddir / "vmlinuz.unsigned").write_bytes(b"x")
    (moddir / "config").write_text("CONFIG_SYSVIPC=y\n")
    k = run.resolve_kernel(tmp_path / "pkg")
    assert (k.release, k.root, k.moddir) == (release, (tmp_path / "pkg").resolve(), moddir.resolve())
    assert k.bootdir is None and k.config == moddir.resolve() / "config"
    cmd = run.vng_command("vng", k, "true", tmp_path / "out" / release, kvm=False, memory="2G",
                          cpus=2, project=tmp_path, staging=tmp_path / "staging")
    boot = Path(cmd[cmd.index("--rodir") + 1].split("=", 1)[1])
    assert (boot / f"config-{release}").read_text() == "CONFIG_SYSVIPC=y\n"
