"""Self-tests of the terminal summary (reports.terminal), on the hand-made records."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace

from reports import terminal

DATA = Path(__file__).parent / "data" / "records"


class FakeReporter:
    def __init__(self, alluredir=None):
        self.lines: list[tuple[str, bool]] = []
        self.config = SimpleNamespace(option=SimpleNamespace(allure_report_dir=alluredir))

    def section(self, title):
        self.lines.append((f"== {title} ==", False))

    def write_line(self, line, red=False, **_):
        self.lines.append((line, red))

    @property
    def text(self):
        return "\n".join(line for line, _ in self.lines)


def record():
    rec = json.loads((DATA / "base-6.18.json").read_text())
    rec["leaks"] = []
    claim = next(c for c in rec["claims"] if c["id"] == "fifo.rdwr")
    claim["partial"] = [{"case": "as nobody", "why": "needs CAP_SETUID to run a second uid"}]
    return rec


def test_every_claim_that_does_not_plainly_hold_is_named(tmp_path):
    tr = FakeReporter()
    terminal.summarise(tr, record(), str(tmp_path / "record.json"))
    text = tr.text
    assert "kernel 6.18.44-fc-v657 x86_64, uid 0, missing CAP_SYS_RESOURCE" in text
    assert ("16 claims  holds: 13  violated: 1  not_applicable: 1  error: 1  "
            "(1 of the holds partial)") in text
    assert ("N/A       sysvmsg.qbytes_raise: CAP_SYS_RESOURCE is missing (container drops it); "
            "run with CAP_SYS_RESOURCE to check the privileged half") in text
    assert "PARTIAL   fifo.rdwr: not run: as nobody: needs CAP_SETUID to run a second uid" in text
    assert ("VIOLATED  pmq.notify.empty: Notification fires when a message arrives on an empty "
            "queue") in text
    assert [red for line, red in tr.lines if line.startswith("ERROR     pthread.mutex_owner_dies")] \
        == [True]
    # worst first: violated, error, then not applicable, then partial
    order = [text.index(k) for k in ("VIOLATED ", "ERROR ", "N/A ", "PARTIAL ")]
    assert order == sorted(order)


def test_one_line_per_facility(tmp_path):
    tr = FakeReporter()
    terminal.summarise(tr, record(), str(tmp_path / "record.json"))
    lines = [l for l, _ in tr.lines]
    assert "  fifo           1 claims: 1 holds (1 partial)" in lines
    assert "  pmq            1 claims: 1 violated" in lines
    assert "  sysvmsg        1 claims: 1 not_applicable" in lines
    assert sum(1 for l in lines if " claims: " in l and l.startswith("  ")) == 12


def test_where_the_outputs_are(tmp_path):
    out = tmp_path / "out"
    (out / "allure-results").mkdir(parents=True)
    for name in ("record.json", "ktap.txt", "junit.xml"):
        (out / name).write_text("x")
    tr = FakeReporter(alluredir=str(out / "allure-results"))
    terminal.summarise(tr, record(), str(out / "record.json"))
    lines = [l for l, _ in tr.lines]
    assert lines[-2] == f"record: {out / 'record.json'}"
    assert f"KTAP {out / 'ktap.txt'}" in lines[-1] and f"JUnit {out / 'junit.xml'}" in lines[-1]
    assert f"Allure results {out / 'allure-results'}/ (./ipcc report makes report.html)" in lines[-1]


def test_a_selection_says_so(tmp_path):
    rec = copy.deepcopy(record())
    rec["run"]["selection"] = "-k pipe"
    tr = FakeReporter()
    terminal.summarise(tr, rec, str(tmp_path / "record.json"))
    assert "[a selection (-k pipe), not the whole suite]" in tr.text
