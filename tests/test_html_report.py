"""Self-tests for the human report (python -m reports.html_report).

The enrichment of allure results is tested without Node.js.  Building the
report needs the pinned Allure 3 CLI (`npm ci --prefix reports/html_report`),
and opening it needs Debian's `chromium`: those tests skip, saying so, when
either is absent.  Set IPCC_SCREENSHOT_DIR to keep the screenshots.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reports import html_report as hr
from reports import render_claims

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data" / "records"
RECORDS = [DATA / "base-6.18.json", DATA / "other-5.10.json", DATA / "old-2.6.9.json"]

sys.path.insert(0, str(REPO / "tools"))
import screenshot_report  # noqa: E402

_no_allure = hr.allure_unavailable()
need_allure = pytest.mark.skipif(_no_allure is not None, reason=str(_no_allure))
need_chromium = pytest.mark.skipif(
    not (shutil.which("chromium") or shutil.which("chromium-browser")),
    reason="chromium not installed (Debian: apt-get install -y chromium)")


def load(path):
    return json.loads(Path(path).read_text())


def shots(tmp_path) -> Path:
    d = Path(os.environ.get("IPCC_SCREENSHOT_DIR") or tmp_path)
    d.mkdir(parents=True, exist_ok=True)
    return d


# -- enrichment (no Node.js needed) -------------------------------------------------------------

def test_claim_html_has_the_evidence():
    rec = load(RECORDS[0])
    claim = next(c for c in rec["claims"] if c["id"] == "pipe.nonblock.large")
    page = hr.claim_html(claim, "6.18.44-fc-v657 x86_64 (vm)")
    assert "O_NONBLOCK, n &gt; PIPE_BUF: writes what fits" in page          # sentence
    assert "<b>Verdict on 6.18.44-fc-v657 x86_64 (vm)</b>: holds" in page   # verdict
    assert "APUE Chapter 15 Notes / 管道 / O_NONBLOCK" in page              # source
    assert 'href="https://man7.org/linux/man-pages/man2/write.2.html"' in page
    assert "&ldquo;write() returns the number of bytes not yet written&rdquo;" in page
    assert "<code>written</code></td><td><code>65536</code>" in page        # observed


def test_claim_html_names_capability_changes():
    """'Where Linux changes' names the version, kconfig option or capability of each entry."""
    page = hr.claim_html({"id": "x.y", "claim": "c", "verdict": "holds", "changes": [
        {"capability": "CAP_SYS_RESOURCE", "note": "a process with it is exempt"},
        {"version": "4.16", "note": "since 4.16"},
        {"kconfig": "CONFIG_X", "note": "without it, no"}]}, "k")
    assert "None:" not in page
    assert "<li>capability CAP_SYS_RESOURCE: a process with it is exempt</li>" in page
    assert "<li>version 4.16: since 4.16</li>" in page
    assert "<li>kconfig CONFIG_X: without it, no</li>" in page


# -- the claims-first overview (no Node.js needed) -----------------------------------------------

def runs_of(*paths):
    return [{"label": hr.kernel_label(load(p), {}, str(p)), "record": load(p)} for p in paths]


def test_overview_each_claim_once_with_its_tests():
    runs = runs_of(*RECORDS)
    page = render_claims.overview(runs)
    ids = {c["id"] for r in runs for c in r["record"]["claims"]}
    for cid in ids:
        assert page.count(f'id="claim-{cid}"') == 1, cid                # listed once
        assert page.count(f'data-claim-row="{cid}"') in (1, 2), cid      # matrix (+ differences)
    assert page.count('<tr class="test">') == len(ids)                    # one test case each
    assert "ipc-conformance: 17 claims on 3 kernels" in page
    assert "None:" not in page and "href=" not in page and "src=" not in page


def test_overview_marks_differences_from_the_baseline():
    page = render_claims.overview(runs_of(*RECORDS))
    differences = page[page.index('id="ipcc-differences"'):page.index('id="ipcc-facilities"')]
    # the unexplained regression: solid outline, its reason and the kind on hover/click
    assert 'class="cell v-violated differs" data-claim="pipe.atomic.small"' in differences
    assert ("3 of 4000 PIPE_BUF-sized records came back interleaved | vs baseline: REGRESSION "
            "(holds \u2192 violated), unexplained") in differences
    # expected by version: dashed
    assert 'class="cell v-violated expected" data-claim="pipe.capacity.default"' in differences
    assert "expected by version 2.6.11" in differences
    # claims the same everywhere are not in the short table
    assert 'data-claim-row="doors.absent"' not in differences


def test_overview_single_run_and_partial():
    rec = load(RECORDS[0])
    claim = next(c for c in rec["claims"] if c["id"] == "fifo.rdwr")
    claim["partial"] = [{"case": "as nobody", "why": "needs CAP_SETUID"}]
    page = render_claims.overview([{"label": "K", "record": rec}])
    assert '<div class="tile v-partial" data-verdict="partial"><b>1</b> of which partial</div>' in page
    table = page[page.index('id="ipcc-matrix"'):page.index('id="ipcc-facilities"')]
    assert "holds (partial)" in table and "not run: as nobody (needs CAP_SETUID)" in table
    assert 'data-claim-row="pmq.notify.empty"' in table       # violated
    assert 'data-claim-row="doors.absent"' not in table       # plainly holds
    facilities = page[page.index('id="ipcc-facilities"'):]
    assert '<tr data-facility="pipe"><td>pipe</td><td class="n v-holds">3</td>' in facilities


def test_overview_selection_is_not_a_difference():
    """Claims a -k/-m selection did not run are 'not run', not differences to read."""
    full = load(RECORDS[0])
    sel = load(RECORDS[0])
    sel["run"]["selection"] = "-m pipe"
    sel["claims"] = [c for c in sel["claims"] if c["facility"] == "pipe"]
    page = render_claims.overview([{"label": "K", "record": full},
                                   {"label": "K #2 uid 65534", "record": sel}])
    assert "ipc-conformance: 16 claims on 2 runs" in page
    assert "a selection (-m pipe), not the whole suite" in page
    assert "Every claim has the same verdict on every run that ran it (16 claims)." in page
    assert 'title="fifo.rdwr on K #2 uid 65534: not run (the run was a selection)"' in page
    assert "differs" not in page.split('id="ipcc-matrix"')[1].split("</table>")[0]


def test_overview_is_first_in_the_body():
    page = render_claims.inject("<html><body class=x><div id=app></div></body></html>", "<p>O</p>")
    assert page.index("<p>O</p>") < page.index("<div id=app>")


def test_claim_html_escapes():
    page = hr.claim_html({"id": "x.y", "claim": "<img src=x onerror=alert(1)>",
                          "verdict": "violated", "reason": "<b>"}, "k")
    assert "<img" not in page and "&lt;img" in page


@pytest.mark.parametrize("page, url", [
    ("pipe(7)", "https://man7.org/linux/man-pages/man7/pipe.7.html"),
    ("sem_wait(3)", "https://man7.org/linux/man-pages/man3/sem_wait.3.html"),
    ("pthread_mutexattr_setrobust(3)",
     "https://man7.org/linux/man-pages/man3/pthread_mutexattr_setrobust.3.html"),
    ("mount(8)", "https://man7.org/linux/man-pages/man8/mount.8.html"),
    ("not a page", None),
])
def test_man_url(page, url):
    assert hr.man_url(page) == url


def allure_result(name, story=None, nodeid_params=None, status="passed"):
    labels = [{"name": "framework", "value": "pytest"}]
    if story:
        labels += [{"name": "story", "value": s} for s in ([story] if isinstance(story, str)
                                                            else story)]
    return {"uuid": "u-" + name, "name": name, "fullName": "mod#" + name, "status": status,
            "historyId": "h-" + name, "labels": labels, "parameters": nodeid_params or []}


def test_find_claim_id():
    rec = load(RECORDS[0])
    by_id, by_test = hr._claim_index(rec)
    assert hr.find_claim_id(allure_result("x", "fifo.rdwr"), by_id, by_test) == "fifo.rdwr"
    # a setup error happens before the labels are set: the test name still says it
    assert hr.find_claim_id(allure_result("test_capacity_default[pipe.capacity.default]"),
                            by_id, by_test) == "pipe.capacity.default"
    # an id is matched whole, not as the prefix of a longer dotted name
    assert hr.find_claim_id(allure_result("test_x[lock.ofd.extra]"), by_id, by_test) is None
    assert hr.find_claim_id(allure_result("test_unrelated"), by_id, by_test) is None


def test_enrich_result_labels_name_and_history():
    rec = load(RECORDS[0])
    claim = next(c for c in rec["claims"] if c["id"] == "fifo.rdwr")
    r1 = hr.enrich_result(allure_result("t", "fifo.rdwr"), claim, "K1", "k0")
    r2 = hr.enrich_result(allure_result("t", "fifo.rdwr"), claim, "K2", "k1")
    labels = {l["name"]: l["value"] for l in r1["labels"]}
    assert labels["kernel"] == labels["parentSuite"] == "K1"
    assert labels["epic"] == labels["suite"] == "fifo"
    assert labels["story"] == labels["subSuite"] == "fifo.rdwr"
    assert labels["severity"] == "normal" and labels["tag"] == "erratum"
    assert r1["name"].startswith("fifo.rdwr \u2014 Linux lets one process open a FIFO O_RDWR")
    assert "a FIFO cannot be opened read-write" in r1["descriptionHtml"]
    assert {"name": "kernel", "value": "K1"} in r1["parameters"]
    assert any(l["url"].endswith("/man7/fifo.7.html") for l in r1["links"])
    # the same test on two kernels must not become retries of one another
    assert r1["historyId"] != r2["historyId"] and r1["testCaseId"] != r2["testCaseId"]


def test_merge_inputs_record_only_and_multi_claim(tmp_path):
    """Record-only input: one synthetic result per claim.  With allure results: a test
    labelled with two claims is listed under both, and claims without results are added."""
    results = tmp_path / "out" / "allure-results"
    results.mkdir(parents=True)
    rec = load(RECORDS[0])
    (tmp_path / "out" / "record.json").write_text(json.dumps(rec))
    two = allure_result("test_two", ["pipe.capacity.default", "pipe.atomic.small"])
    (results / "a-result.json").write_text(json.dumps(two))
    (results / "b-attachment.json").write_text("{}")
    (results / "environment.properties").write_text("kernel=6.18.44-fc-v657\n")
    dest = tmp_path / "merged"
    dest.mkdir()
    inputs = [hr.resolve_input(results), hr.resolve_input(RECORDS[1])]
    assert inputs[0][1]["host"]["hostname"] == "vm"      # record found beside the results
    assert inputs[1][0] is None                           # no results beside the hand-made one
    kernels = hr.merge_inputs(inputs, dest)
    assert [k["label"] for k in kernels] == ["6.18.44-fc-v657 x86_64 (vm)",
                                             "5.10.0-28-amd64 x86_64 (lkft-x86-03)"]
    # 2 copies of the two-claim test + 14 claims from the record alone; 16 from the other
    assert [k["results"] for k in kernels] == [16, 16]
    merged = [json.loads(p.read_text()) for p in dest.glob("*-result.json")]
    for cid in ("pipe.capacity.default", "pipe.atomic.small"):
        from_test = [r for r in merged if r["name"].startswith(cid + " \u2014")
                     and r["fullName"] == "mod#test_two"]
        assert len(from_test) == 1, cid  # listed under each of its claims
    assert (dest / "b-attachment.json").exists()
    assert len({r["uuid"] for r in merged}) == len(merged)
    assert len({r["historyId"] for r in merged}) == len(merged)
    statuses = {(r["name"].split(" ")[0], r["status"]) for r in merged if any(l["value"] == "5.10.0-28-amd64 x86_64 (lkft-x86-03)"
                                       for l in r["labels"])}
    assert ("pipe.atomic.small", "failed") in statuses
    assert ("psem.eintr", "broken") in statuses
    assert ("sysv.tools", "skipped") in statuses


def test_kernel_label_from_environment_properties(tmp_path):
    assert hr.kernel_label(None, {"kernel": "6.1.0-27-amd64", "arch": "x86_64"}, "fb") == \
        "6.1.0-27-amd64 x86_64"
    assert hr.kernel_label(None, {}, "fallback") == "fallback"


def test_allure_config_environments():
    one = hr.allure_config(Path("/o"), [{"label": "6.18 x86_64 (vm)", "key": "k0"}], "r")
    assert "environments" not in one and '"parentSuite", "epic", "story"' in one
    cfg = hr.allure_config(Path("/o"), [{"label": "6.18.44 x86_64 (vm)", "key": "k0"},
                                        {"label": "5.10.0/odd x86_64 (h)", "key": "k1"}], "r")
    assert '"6-18-44-x86_64-vm-k0": { name: "6.18.44 x86_64 (vm)"' in cfg
    assert 'name: "5.10.0-odd x86_64 (h)"' in cfg       # no '/' in environment names
    assert 'l.value === "5.10.0/odd x86_64 (h)"' in cfg  # but the label is matched as is
    assert "singleFile: true" in cfg


def test_make_offline():
    page = ('<html><head></head><body><div id="app"></div>\n'
            '<script async src="https://www.googletagmanager.com/gtag/js?id=G-X"></script>\n'
            "    <script>\n        window.dataLayer = window.dataLayer || [];\n"
            "        function gtag(){dataLayer.push(arguments);}\n        gtag('js', new Date());"
            "\n    </script>\n<script src=\"data:text/javascript;base64,AAAA\"></script>"
            "</body></html>")
    out = hr.make_offline(page)
    assert "googletagmanager" not in out and "gtag" not in out
    assert 'src="data:text/javascript;base64,AAAA"' in out
    for bad in ('<link rel="stylesheet" href="https://cdn.example/x.css">',
                '<img src="//example.org/x.png">', "<style>@import 'http://x/y.css';</style>",
                '<div style="background:url(https://x/y.png)"></div>'):
        with pytest.raises(hr.BuildError, match="outside resource"):
            hr.make_offline(page.replace("</body>", bad + "</body>"))
    # links a person clicks are fine (man pages), namespaces too
    hr.make_offline(page.replace("</body>", '<svg xmlns="http://www.w3.org/2000/svg"></svg>'
                                 "<p>see https://man7.org/linux/man-pages/</p></body>"))


def test_missing_input_and_missing_cli(tmp_path, monkeypatch):
    with pytest.raises(hr.BuildError, match="no such file or directory"):
        hr.resolve_input(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(hr.BuildError, match="no allure results"):
        hr.resolve_input(tmp_path / "empty")
    with pytest.raises(hr.BuildError, match="truncated JSON"):
        hr.resolve_input(DATA / "bad" / "truncated.json")
    monkeypatch.delenv("ALLURE_CLI", raising=False)
    monkeypatch.setattr(hr, "ALLURE_BIN", tmp_path / "no-allure")
    monkeypatch.setattr(hr, "node_version", lambda: (20, 19))
    with pytest.raises(hr.BuildError, match="npm ci --prefix reports/html_report"):
        hr.find_allure()
    monkeypatch.setattr(hr, "node_version", lambda: (18, 19))
    with pytest.raises(hr.BuildError, match="Node.js 18.19 is too old"):
        hr.find_allure()
    monkeypatch.setattr(hr, "node_version", lambda: None)
    with pytest.raises(hr.BuildError, match="Node.js not found"):
        hr.find_allure()
    assert hr.main([str(RECORDS[0]), "-o", str(tmp_path / "r.html")]) == 2


def test_claims_only_needs_no_node(tmp_path, monkeypatch):
    """--claims-only: the overview as its own offline page, whatever Node.js there is."""
    monkeypatch.setattr(hr, "node_version", lambda: None)
    out = tmp_path / "claims.html"
    assert hr.main(["--claims-only", str(RECORDS[0]), str(RECORDS[1]), "-o", str(out)]) == 0
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and 'id="ipcc-claims"' in page
    assert 'id="app"' not in page and 'id="ipcc-drill"' not in page
    assert 'id="ipcc-differences"' in page and not hr.EXTERNAL_REF.search(page)


@need_chromium
@pytest.mark.timeout(300)
def test_claims_only_renders_in_chromium(tmp_path):
    out = tmp_path / "claims.html"
    hr.build_claims_only(RECORDS, out)
    d = shots(tmp_path)
    check = screenshot_report.check_report(
        out, screenshot_report.claim_counts_of([str(r) for r in RECORDS]),
        first_screen=d / "claims-only-first-screen.png")
    assert check["allure"] is False and check["overview_problems"] == []
    assert check["overview_claims"] == 17 and check["external_requests"] == []
    assert check["ok"]


# -- building the report (needs the Allure 3 CLI) -----------------------------------------------

def make_allure_results(tmp_path) -> Path:
    """Real allure-pytest output, labelled the way fixtures/record.py labels it."""
    pytest.importorskip("allure_pytest", reason="allure-pytest not installed")
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "pytest.ini").write_text("[pytest]\n")
    (proj / "test_claims.py").write_text(textwrap.dedent('''
        import json, allure, pytest

        CLAIMS = {"fifo.rdwr": ("fifo", {"read_back": 5}, "pass"),
                  "pipe.atomic.small": ("pipe", {"interleaved": 3}, "fail"),
                  "sysv.tools": ("sysv", {}, "skip")}

        @pytest.mark.parametrize("cid", sorted(CLAIMS))
        def test_claim(cid):
            fac, obs, what = CLAIMS[cid]
            allure.dynamic.epic(fac)
            allure.dynamic.story(cid)
            allure.dynamic.severity("normal")
            allure.dynamic.link("https://man7.org/linux/man-pages/man7/pipe.7.html", name="pipe(7)")
            allure.attach(json.dumps(obs), name="observed",
                          attachment_type=allure.attachment_type.JSON)
            if what == "fail":
                assert obs["interleaved"] == 0, "3 of 4000 records came back interleaved"
            if what == "skip":
                pytest.skip("ipcs not found in PATH")
    '''))
    out = proj / "out"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--alluredir", str(out / "allure-results"), "test_claims.py"],
                          cwd=proj, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # one claim fails on purpose
    rec = load(RECORDS[0])
    for c in rec["claims"]:
        c["tests"] = [{"nodeid": f"test_claims.py::test_claim[{c['id']}]", "outcome": "passed",
                       "duration_s": 0.001, "message": ""}]
    (out / "record.json").write_text(json.dumps(rec))
    return out / "allure-results"


@need_allure
@pytest.mark.timeout(300)
def test_build_single_file_offline(tmp_path):
    results = make_allure_results(tmp_path)
    out = tmp_path / "report.html"
    info = hr.build([results], out)
    assert info["kernels"] == ["6.18.44-fc-v657 x86_64 (vm)"]
    assert info["results"] == 16  # 3 from allure-pytest + 13 claims only in the record
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert not hr.EXTERNAL_REF.search(page)
    assert not list(tmp_path.glob("*.js")) and not (tmp_path / "data").exists()  # one file


@need_allure
@need_chromium
@pytest.mark.timeout(300)
def test_report_renders_offline_in_chromium(tmp_path):
    """The done criterion: the file opens offline and shows every claim with its evidence."""
    results = make_allure_results(tmp_path)
    out = tmp_path / "report.html"
    hr.build([results], out)
    d = shots(tmp_path)
    check = screenshot_report.check_report(
        out, screenshot_report.claim_counts_of([str(results.parent / "record.json")]),
        screenshot=d / "report-tree.png", open_claim="pipe.nonblock.large",
        claim_screenshot=d / "report-claim.png", first_screen=d / "report-first-screen.png")
    # the first screen is about claims: counts per verdict, then what does not plainly hold
    assert check["overview"] and check["overview_problems"] == []
    assert check["overview_runs"] == ["6.18.44-fc-v657 x86_64 (vm) 13 holds 1 violated 1 error "
                                      "1 not applicable"]
    assert check["overview_claims"] == 16 and check["overview_tests"] == 16
    assert "pmq.notify.empty" in check["overview_text"]
    assert (d / "report-first-screen.png").stat().st_size > 10_000
    assert check["external_requests"] == []
    assert check["requests"] > 0
    assert check["missing_claims"] == [] and check["claims_short_of_kernels"] == []
    assert check["claim_page_opened"]
    text = check["claim_page_text"]
    assert "O_NONBLOCK, n > PIPE_BUF: writes what fits" in text
    assert "write() returns the number of bytes not yet written" in text  # erratum wording
    assert "APUE Chapter 15 Notes" in text                                # source
    assert "Verdict on 6.18.44-fc-v657 x86_64 (vm): holds" in text
    assert "written" in text and "65536" in text                           # observed
    assert (d / "report-tree.png").stat().st_size > 10_000
    assert check["ok"]


@need_allure
@need_chromium
@pytest.mark.timeout(300)
def test_report_separates_kernels(tmp_path):
    out = tmp_path / "kernels.html"
    info = hr.build(RECORDS, out)
    assert len(info["kernels"]) == 3 and info["results"] == 48
    d = shots(tmp_path)
    check = screenshot_report.check_report(
        out, screenshot_report.claim_counts_of([str(r) for r in RECORDS]),
        screenshot=d / "kernels-tree.png", open_claim="pipe.capacity.default",
        claim_screenshot=d / "kernels-claim.png", first_screen=d / "kernels-first-screen.png",
        expect_text=[f'Environment: "{k}"' for k in info["kernels"]])
    # claims x kernels: each claim one row, the differences from the baseline first
    assert check["overview_problems"] == []
    assert check["overview_rows"] == 17 and check["overview_claims"] == 17
    assert "pipe.atomic.small" in check["overview_differing"]
    assert "doors.absent" not in check["overview_differing"]
    assert "vs baseline" in check["overview_click"]["info"]
    assert check["missing_text"] == []  # one section per kernel
    assert check["missing_claims"] == [] and check["claims_short_of_kernels"] == []
    assert check["leaves"] == 48
    assert check["external_requests"] == []
    assert check["ok"]
