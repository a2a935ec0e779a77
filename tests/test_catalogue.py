"""Self-tests of the claim catalogue: sound entries, every claim tested, every test catalogued."""
import json
import os
import re
import subprocess
import sys

import pytest

from fixtures import catalogue

INVENTORY = os.path.join(catalogue.ROOT, "..", "shared", "claims-inventory.md")
# Every section of the inventory is catalogued (issue 2: 1-5, 12, 14; issue 10: 6, 7; issue 11:
# 8; issue 12: 9, 10; issue 13: 11, 13, 15, 16).
SECTIONS_IN_SCOPE = tuple(f"{n}." for n in range(1, 17))


@pytest.fixture(scope="module")
def claims():
    return catalogue.load()


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """{nodeid: [claim ids]} of the conformance suites, from a collect-only run."""
    out = tmp_path_factory.mktemp("collect") / "claims.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "--no-record",
         "-p", "no:cacheprovider", "--list-claims", str(out), "suites"],
        cwd=catalogue.ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(out.read_text())


def test_catalogue_entries_are_sound(claims):
    assert claims, "the catalogue is empty"
    assert catalogue.validate(claims) == []


def test_every_claim_has_a_test(claims, collected):
    tested = {cid for ids in collected.values() for cid in ids}
    untested = sorted(set(claims) - tested)
    assert not untested, f"catalogued claims without a test: {untested}"


def test_every_test_names_a_known_claim(claims, collected):
    unnamed = sorted(n for n, ids in collected.items() if not ids)
    unknown = sorted({cid for ids in collected.values() for cid in ids} - set(claims))
    assert not unnamed, f"tests that name no claim: {unnamed}"
    assert not unknown, f"tests name claims the catalogue lacks: {unknown}"


def test_claim_ids_are_in_test_ids(collected):
    missing = [n for n, ids in collected.items() if "+".join(ids) not in n]
    assert not missing, f"test ids without their claim id: {missing[:5]}"


def inventory_ids(sections=SECTIONS_IN_SCOPE):
    ids, current = [], None
    with open(INVENTORY, encoding="utf-8") as f:
        for line in f:
            heading = re.match(r"## (\d+\.)", line)
            if heading:
                current = heading.group(1)
            row = re.match(r"\| ([a-z0-9_]+(?:\.[a-z0-9_]+)+) \|", line)
            if row and current in sections:
                ids.append(row.group(1))
    return ids


@pytest.mark.skipif(not os.path.exists(INVENTORY), reason="../shared/claims-inventory.md is absent")
def test_inventory_sections_in_scope_are_catalogued(claims):
    missing = [cid for cid in inventory_ids() if cid not in claims]
    assert not missing, f"inventory claims not yet catalogued: {missing}"


def test_man_urls():
    assert catalogue.man_url("pipe(7)") == "https://man7.org/linux/man-pages/man7/pipe.7.html"
    assert catalogue.man_url("msgrcv(2)") == "https://man7.org/linux/man-pages/man2/msgrcv.2.html"
    with pytest.raises(ValueError):
        catalogue.man_url("pipe")


def test_validate_reports_bad_entries():
    bad = {"x": {"id": "x", "claim": "", "sources": [{"document": "Nope"}], "man": ["pipe"],
                 "severity": "huge", "catalogue_file": "f", "erratum": {"document": "Nope"}}}
    problems = "\n".join(catalogue.validate(bad))
    for needle in ("missing claim", "dotted", "severity", "unknown source document",
                   "lacks its section", "not a man page", "erratum"):
        assert needle in problems, needle


# -- selection by facility (-m) and the claim list (./ipcc list) ---------------------------------

def collect_claims(tmp_path, *args) -> dict:
    out = tmp_path / "claims.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "--no-record",
         "-p", "no:cacheprovider", "--list-claims", str(out), *args, "suites"],
        cwd=catalogue.ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(out.read_text())


def test_every_facility_is_a_registered_marker(claims):
    assert catalogue.facilities() == sorted({c["facility"] for c in claims.values()})
    proc = subprocess.run([sys.executable, "-m", "pytest", "--markers", "--no-record"],
                          cwd=catalogue.ROOT, capture_output=True, text=True, timeout=60)
    for facility in catalogue.facilities():
        assert f"@pytest.mark.{facility}: the claims of suites/{facility}" in proc.stdout


@pytest.mark.timeout(180)  # a collection of the suites takes seconds, more on a loaded machine
def test_every_test_carries_its_facility_markers(claims, collected, tmp_path):
    """Each test is marked with its directory's facility and those of its claims, so that
    -m FACILITY selects all of that facility and nothing else."""
    probe = tmp_path / "markers.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "--no-record",
         "-p", "no:cacheprovider", "-p", "tests.marker_probe", "suites"],
        cwd=catalogue.ROOT, capture_output=True, text=True, timeout=120,
        env=dict(os.environ, IPCC_MARKER_PROBE=str(probe)))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    markers = json.loads(probe.read_text())
    wrong = {}
    for nodeid, ids in collected.items():
        expected = {nodeid.split("/")[1]} | {claims[c]["facility"] for c in ids if c in claims}
        if set(markers[nodeid]) != expected:
            wrong[nodeid] = markers[nodeid]
    assert not wrong, f"tests without their facility markers: {dict(list(wrong.items())[:5])}"


@pytest.mark.timeout(180)
def test_minus_m_selects_a_facility(claims, collected, tmp_path):
    """-m with strict markers on deselects by these markers (serial here, -n 2 below)."""
    full = collected
    chosen = collect_claims(tmp_path, "-m", "sysvmsg or fifo")
    assert chosen and set(chosen) == {
        n for n, ids in full.items() if n.split("/")[1] in ("sysvmsg", "fifo")
        or any(claims.get(c, {}).get("facility") in ("sysvmsg", "fifo") for c in ids)}


@pytest.mark.timeout(180)
def test_minus_m_with_xdist(tmp_path):
    """With -n the workers collect: the markers must be there too (it crashed before)."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "--no-record", "-n", "2",
         "-p", "no:cacheprovider", "-m", "sysvmsg or fifo", "suites"],
        cwd=catalogue.ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "INTERNALERROR" not in proc.stdout + proc.stderr, \
        proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "deselected" in proc.stdout


def test_list_claims(claims, capsys):
    assert catalogue.main([]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == f"{len(claims)} claims"
    assert any(line.startswith("pipe.capacity.default ") and " pipe " in line for line in lines)
    assert catalogue.main(["-k", "pipe.capacity and not default", "--format", "json"]) == 0
    chosen = json.loads(capsys.readouterr().out)
    assert chosen and all(c["id"].startswith("pipe.capacity") and c["id"] !=
                          "pipe.capacity.default" for c in chosen)
    assert set(chosen[0]) == {"id", "facility", "severity", "claim"}
    # a facility or a severity matches as pytest -k would, case-insensitively
    assert {c["facility"] for c in catalogue.select(claims, "SYSVMSG")} == {"sysvmsg"}
    assert {c["severity"] for c in catalogue.select(claims, "critical")} == {"critical"}
    assert catalogue.main(["-k", "pipe and ("]) == 2
    assert "bad -k expression" in capsys.readouterr().err
