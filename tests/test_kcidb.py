"""Self-tests of the KCIDB export (reports.kcidb): the shape KernelCI takes, validated
against the schema of the kcidb-io package (the dev extra)."""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reports import kcidb

DATA = Path(__file__).parent / "data" / "records"
REPO = Path(__file__).resolve().parent.parent
kcidb_io = pytest.importorskip("kcidb_io", reason="kcidb-io not installed (the dev extra)")


def record(name="other-5.10.json"):
    return json.loads((DATA / name).read_text())


@pytest.mark.parametrize("name", ["base-6.18.json", "other-5.10.json", "old-2.6.9.json"])
def test_every_record_validates(name):
    data = kcidb.render(record(name))
    kcidb_io.schema.LATEST.validate(data)
    assert kcidb_io.schema.LATEST.is_compatible_exactly(data)
    assert len(data["tests"]) == len(record(name)["claims"])  # one test per claim


def test_statuses_paths_and_ids():
    data = kcidb.render(record())
    tests = {t["misc"]["claim_id"]: t for t in data["tests"]}
    assert {cid: t["status"] for cid, t in tests.items() if cid in (
        "pipe.atomic.small", "psem.eintr", "sysv.tools", "fifo.rdwr")} == {
        "pipe.atomic.small": "FAIL", "psem.eintr": "ERROR", "sysv.tools": "SKIP",
        "fifo.rdwr": "PASS"}
    assert tests["pipe.atomic.small"]["path"] == "ipc_conformance.pipe.atomic.small"
    assert tests["pipe.atomic.small"]["log_excerpt"] == \
        "3 of 4000 PIPE_BUF-sized records came back interleaved"
    assert tests["pipe.atomic.small"]["comment"].startswith(
        "pipe.atomic.small: Writes of <= PIPE_BUF bytes are atomic")
    build = data["builds"][0]
    assert all(t["build_id"] == build["id"] for t in data["tests"])
    assert build["checkout_id"] == data["checkouts"][0]["id"]
    assert build["architecture"] == "x86_64"
    assert build["misc"]["kconfig"]["CONFIG_MANDATORY_FILE_LOCKING"] == "y"
    env = tests["fifo.rdwr"]["environment"]
    assert env["misc"]["kernel_release"] == "5.10.0-28-amd64" and "kconfig" not in env["misc"]
    assert len({t["id"] for t in data["tests"]}) == len(data["tests"])
    assert kcidb.render(record()) == data  # the same record gives the same ids


def test_facility_prefixes_a_foreign_id():
    claim = {"id": "socketpair.duplex", "facility": "pipe"}
    assert kcidb.test_path(claim) == "ipc_conformance.pipe.socketpair.duplex"


def test_partial_and_existing_build():
    rec = record()
    claim = next(c for c in rec["claims"] if c["id"] == "fifo.rdwr")
    claim["partial"] = [{"case": "as nobody", "why": "needs CAP_SETUID"}]
    data = kcidb.render(rec, origin="mylab", build_id="maestro:abc123")
    kcidb_io.schema.LATEST.validate(data)
    assert "checkouts" not in data and "builds" not in data
    test = next(t for t in data["tests"] if t["misc"]["claim_id"] == "fifo.rdwr")
    assert test["status"] == "PASS" and test["misc"]["partial"] == claim["partial"]
    assert test["log_excerpt"] == "not run: as nobody: needs CAP_SETUID"
    assert test["id"].startswith("mylab:") and test["build_id"] == "maestro:abc123"
    assert "kconfig" in test["environment"]["misc"]  # no build of ours to carry it
    with pytest.raises(ValueError, match="origin"):
        kcidb.render(rec, origin="My Lab")


def test_control_characters_survive():
    rec = record()
    rec["claims"][0].update(verdict="violated", reason="bad\0byte\nand a newline")
    data = kcidb.render(rec)
    kcidb_io.schema.LATEST.validate(data)
    assert "\0" not in json.dumps(data["tests"][0]["log_excerpt"])


def test_cli(tmp_path):
    out = tmp_path / "kcidb.json"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "reports.kcidb", str(DATA / "base-6.18.json"),
                           "-o", str(out)], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "16 tests written to" in proc.stderr and "valid KCIDB v5" in proc.stderr
    kcidb_io.schema.LATEST.validate(json.loads(out.read_text()))
    bad = subprocess.run([sys.executable, "-m", "reports.kcidb", str(DATA / "bad" / "empty.json")],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.startswith("export kcidb: ")
    assert len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.timeout(300)
def test_this_hosts_record_validates(tmp_path):
    """A record the suite writes on this host (a small selection, to stay quick) exports to
    valid KCIDB with one test per claim."""
    rec_path = tmp_path / "record.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider",
         f"--record={rec_path}", "-k", "fifo.rdwr or pipe.capacity.default or sysv.tools",
         "suites"], cwd=REPO, capture_output=True, text=True, timeout=280)
    assert rec_path.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    rec = json.loads(rec_path.read_text())
    data = kcidb.render(rec)
    kcidb_io.schema.LATEST.validate(data)
    assert {t["misc"]["claim_id"] for t in data["tests"]} == {c["id"] for c in rec["claims"]}
    assert data["builds"][0]["comment"].startswith(rec["host"]["kernel_release"])
