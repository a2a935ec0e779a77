"""Self-tests of ./ipcc's help and of its refusals that come before any set-up: exit 0 with
the help on stdout, exit 2 with one line naming what is missing."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def ipcc(*args, env=None):
    return subprocess.run(["bash", str(REPO / "ipcc"), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env=env)


@pytest.mark.parametrize("args", [("help",), ("--help",), ("-h",)])
def test_help_exits_0_on_stdout(args):
    proc = ipcc(*args)
    assert proc.returncode == 0 and proc.stderr == ""
    for command in ("run", "test", "list", "compare", "report", "export kcidb", "kernels", "help"):
        assert f"./ipcc {command}" in proc.stdout, command
    assert not any(line.startswith("#") for line in proc.stdout.splitlines())


@pytest.mark.parametrize("command", ["run", "list", "compare", "report", "export", "kernels"])
def test_help_command(command):
    proc = ipcc("help", command)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"  ./ipcc {command}")


def test_unknown_command_exits_2():
    for args in (("nope",), ("help", "nope")):
        proc = ipcc(*args)
        assert proc.returncode == 2 and proc.stdout == ""
        assert proc.stderr.startswith("ipcc: no command 'nope'\n")


def test_export_names_its_format():
    proc = ipcc("export", "csv", "x.json")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "ipcc: usage: ./ipcc export kcidb RECORD.json [-o FILE] [--origin NAME] "
        "(kcidb is the only format)"]


def bare_path(tmp_path) -> Path:
    """A PATH with only what ./ipcc itself needs before it sets anything up."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "sed"):
        os.symlink(shutil.which(tool), bin_dir / tool)
    return bin_dir


def test_report_without_node_says_what_it_needs(tmp_path):
    """No node/npm on PATH: one line naming them and the version, exit 2, before any set-up."""
    bin_dir = bare_path(tmp_path)
    proc = ipcc("report", env={"PATH": str(bin_dir), "HOME": str(tmp_path)})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "ipcc: the report (the Allure 3 CLI; --claims-only needs no Node.js) needs Node.js >= "
        "20.19 and npm, not found on PATH "
        "(Debian 13: apt-get install nodejs npm; Debian 12's nodejs 18 is too old: use "
        "NodeSource's)"]


def test_report_with_old_node(tmp_path):
    bin_dir = bare_path(tmp_path)
    (bin_dir / "npm").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "node").write_text('#!/bin/sh\n[ "$1" = --version ] && echo v18.19.0 && exit 0\n'
                                  "exit 1\n")
    for f in ("npm", "node"):
        (bin_dir / f).chmod(0o755)
    proc = ipcc("report", env={"PATH": str(bin_dir), "HOME": str(tmp_path)})
    assert proc.returncode == 2
    assert "needs Node.js >= 20.19, this is v18.19.0" in proc.stderr
