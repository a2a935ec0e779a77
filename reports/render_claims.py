"""The claims-first overview at the top of the human report (one HTML fragment).

    overview(runs) -> str     runs: [{"label": "6.1.0-27-amd64 x86_64 (h)", "record": {...}}]

What a person reads first, without clicking: the claims per verdict on each kernel
(holds in part shown), a facility x verdict table, and with several runs the claims whose
verdict differs between the kernels, then every claim x kernel (rows claims, columns runs,
coloured cells, the reason on hover and on click, differences from the baseline marked
as the comparison classifies them).  Below, each claim once with its sentence, evidence
and its test cases per kernel.  The first run is the baseline, as in reports.compare.

Self-contained: styles scoped to #ipcc-claims, one small inline script for the click,
no outside reference (man pages are named, not linked; the Allure drill-down links them).
"""

from __future__ import annotations

import html
import json
from typing import Any

from reports.model import KIND_LABELS, compare_pair, short_note, verdict_arrow
from reports.records import change_text, partial_cases, selection_of, verdict_text

VERDICT_SHORT = {"holds": "holds", "violated": "VIOLATED", "error": "ERROR",
                 "not_applicable": "n/a"}
# the kind of difference, beside a verdict that already says ERROR
CELL_MARKS = {"error": "NEW", "value": "values"}
COLUMNS = ("holds", "partial", "violated", "error", "not_applicable")
COLUMN_TITLES = {"holds": "holds", "partial": "of which partial", "violated": "violated",
                 "error": "error", "not_applicable": "not applicable"}

CSS = """
#ipcc-claims{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d2228;
 background:#fff;padding:16px 24px 24px;border-bottom:3px solid #d0d4da}
#ipcc-claims h1{font-size:22px;margin:0 0 4px;font-weight:700}
#ipcc-claims h2{font-size:17px;margin:22px 0 6px;font-weight:700}
#ipcc-claims p{margin:4px 0}
#ipcc-claims .sub{color:#555}
#ipcc-claims table{border-collapse:collapse;margin:6px 0}
#ipcc-claims th,#ipcc-claims td{border:1px solid #d0d4da;padding:3px 8px;text-align:left;
 vertical-align:top}
#ipcc-claims th{background:#f0f2f5;font-weight:600}
#ipcc-claims td.n{text-align:right;font-variant-numeric:tabular-nums}
#ipcc-claims .tiles{display:flex;flex-wrap:wrap;gap:8px;margin:6px 0}
#ipcc-claims .tile{border-radius:6px;padding:2px 10px;min-width:96px;border:1px solid}
#ipcc-claims .tile b{font-size:18px;margin-right:6px}
#ipcc-claims .runline{display:flex;align-items:center;gap:12px;margin:2px 0}
#ipcc-claims .runline .tiles{margin:0}
#ipcc-claims .runline .who{min-width:330px;font-weight:600}
#ipcc-claims .v-holds{background:#dcf5e0;border-color:#3a9a4a;color:#14501f}
#ipcc-claims .v-partial{background:repeating-linear-gradient(135deg,#dcf5e0 0 6px,#f3fbf4 6px 12px);
 border-color:#3a9a4a;color:#14501f}
#ipcc-claims .v-violated{background:#fbd9d7;border-color:#c62828;color:#8a1010}
#ipcc-claims .v-error{background:#fde6c4;border-color:#d27a00;color:#7a4300}
#ipcc-claims .v-not_applicable{background:#eceef1;border-color:#9aa1ab;color:#4a5059}
#ipcc-claims .v-absent{background:#fff;border-color:#d0d4da;color:#888}
#ipcc-claims td.cell{cursor:pointer;white-space:nowrap;font-weight:600;min-width:90px}
#ipcc-claims td.cell.differs{outline:3px solid #1d2228;outline-offset:-3px}
#ipcc-claims td.cell.expected{outline:2px dashed #4a5059;outline-offset:-3px}
#ipcc-claims td.cell .mark{font-weight:700;margin-left:6px;font-size:11px}
#ipcc-claims tr.fac td{background:#f7f8fa;font-weight:700;color:#333}
#ipcc-claims td.cid{font-family:ui-monospace,monospace;font-size:13px;white-space:nowrap}
#ipcc-claims td.sentence{color:#555;max-width:460px;white-space:nowrap;overflow:hidden;
 text-overflow:ellipsis;font-size:13px}
#ipcc-claims #ipcc-cell-info{position:sticky;top:0;z-index:5;background:#fffbe6;
 border:1px solid #e0c97a;border-radius:6px;padding:6px 10px;margin:6px 0;min-height:1.4em}
#ipcc-claims details.claim{border:1px solid #d0d4da;border-radius:6px;margin:4px 0;padding:2px 10px}
#ipcc-claims details.claim[open]{background:#fbfcfd}
#ipcc-claims details.claim summary{cursor:pointer;padding:3px 0}
#ipcc-claims .chip{display:inline-block;border:1px solid;border-radius:4px;padding:0 6px;
 margin-left:4px;font-size:12px;font-weight:600}
#ipcc-claims .reason{margin:2px 0 2px 12px;color:#333}
#ipcc-claims code{font-size:12.5px}
#ipcc-claims .legend span{margin-right:10px}
#ipcc-claims button.drill{font:inherit;padding:3px 10px;border:1px solid #9aa1ab;border-radius:5px;
 background:#f0f2f5;cursor:pointer}
"""

SCRIPT = """
(function(){
  var root = document.getElementById('ipcc-claims'); if (!root) return;
  var info = document.getElementById('ipcc-cell-info');
  root.addEventListener('click', function(ev){
    var td = ev.target.closest('td.cell'); if (!td) return;
    info.textContent = td.getAttribute('data-info');
    var d = document.getElementById('claim-' + td.getAttribute('data-claim'));
    if (d) d.open = true;
  });
  var drill = document.getElementById('ipcc-drill');
  if (drill) drill.addEventListener('click', function(){
    var app = document.getElementById('app'); if (app) app.scrollIntoView();
  });
})();
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _value(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


def _cls(claim: dict | None) -> str:
    if claim is None:
        return "v-absent"
    return "v-partial" if partial_cases(claim) else f"v-{claim['verdict']}"


def _short(claim: dict | None) -> str:
    if claim is None:
        return "\u2014"
    return "holds (partial)" if partial_cases(claim) else VERDICT_SHORT.get(claim["verdict"],
                                                                           claim["verdict"])


def _reason_line(claim: dict | None) -> str:
    """The reason a reader wants beside a verdict: the reason, and the cases not run."""
    if claim is None:
        return "not in this run's record"
    parts = [claim.get("reason") or ""]
    parts += [f"not run: {p.get('case')} ({p.get('why')})" for p in partial_cases(claim)]
    return "; ".join(p for p in parts if p)


def counts_of(record: dict) -> dict:
    counts = {k: 0 for k in COLUMNS}
    for c in record.get("claims", []):
        counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
        counts["partial"] += bool(partial_cases(c))
    return counts


def _tiles(record: dict) -> str:
    counts = counts_of(record)
    out = []
    for v in COLUMNS:
        if v == "partial" and not counts[v]:
            continue
        out.append(f"<div class=\"tile v-{v}\" data-verdict=\"{v}\"><b>{counts[v]}</b> "
                   f"{_e(COLUMN_TITLES[v])}</div>")
    return "<div class=\"tiles\">" + "".join(out) + "</div>"


def facility_table(runs: list[dict]) -> str:
    """Rows facilities, columns verdicts; with several runs each cell lists the runs' counts
    in run order ('12 · 11 · 12')."""
    facilities: dict[str, list[dict]] = {}
    for i, run in enumerate(runs):
        for c in run["record"].get("claims", []):
            fac = c.get("facility") or c["id"].split(".")[0]
            facilities.setdefault(fac, [{k: 0 for k in COLUMNS} for _ in runs])
            facilities[fac][i][c["verdict"]] += 1
            facilities[fac][i]["partial"] += bool(partial_cases(c))
    head = "".join(f"<th class=\"v-{v}\">{_e(COLUMN_TITLES[v])}</th>" for v in COLUMNS)
    rows = []
    for fac in sorted(facilities):
        per_run = facilities[fac]
        cells = []
        for v in COLUMNS:
            nums = [r[v] for r in per_run]
            differs = len(set(nums)) > 1
            text = " \u00b7 ".join(str(n) for n in nums)
            cls = f" v-{v}" if any(nums) else ""
            bold = " style=\"font-weight:700\"" if differs else ""
            cells.append(f"<td class=\"n{cls}\"{bold}>{text}</td>")
        rows.append(f"<tr data-facility=\"{_e(fac)}\"><td>{_e(fac)}</td>{''.join(cells)}</tr>")
    note = ("" if len(runs) == 1 else
            "<p class=\"sub\">Each cell: the runs in column order (" +
            " \u00b7 ".join(_e(r["label"]) for r in runs) + ").</p>")
    return (f"<table id=\"ipcc-facilities\"><tr><th>facility</th>{head}</tr>{''.join(rows)}"
            f"</table>{note}")


def _index(runs: list[dict]) -> tuple[list[str], dict[str, dict], list[dict[str, dict]]]:
    """(claim ids in facility/id order, catalogue entry per id, claims by id per run)."""
    by_run = [{c["id"]: c for c in run["record"].get("claims", [])} for run in runs]
    entry: dict[str, dict] = {}
    for claims in reversed(by_run):
        entry.update(claims)  # the baseline's entry wins
    ids = sorted(entry, key=lambda cid: (entry[cid].get("facility") or cid.split(".")[0], cid))
    return ids, entry, by_run


def _diffs(runs: list[dict]) -> list[dict[str, dict]]:
    """Per run: claim id -> the change against the baseline (empty for the baseline)."""
    base = runs[0]["record"]
    return [{}] + [{c["id"]: c for c in compare_pair(base, run["record"])} for run in runs[1:]]


def _cell(cid: str, claim: dict | None, run: dict, change: dict | None) -> str:
    info = f"{cid} on {run['label']}: {verdict_text(claim)}"
    reason = _reason_line(claim)
    if reason:
        info += f" \u2014 {reason}"
    cls, mark = ["cell", _cls(claim)], ""
    if change and change["kind"] == "unselected":  # a selection that did not run it: no finding
        info = f"{cid} on {run['label']}: not run (the run was a selection)"
        mark = "<span class=\"mark\">not run</span>"
    elif change and change["kind"] != "value":
        note = short_note(change)
        cls.append("expected" if change["expected"] else "differs")
        label = CELL_MARKS.get(change["kind"], KIND_LABELS[change["kind"]])
        mark = f"<span class=\"mark\">{_e(label)}</span>"
        info += (f" | vs baseline: {KIND_LABELS[change['kind']]} ({verdict_arrow(change)})"
                 + (f", {note}" if note else ", unexplained"))
    elif change:
        cls.append("expected" if change["expected"] else "differs")
        mark = "<span class=\"mark\">values</span>"
        info += " | vs baseline: observed values differ: " + ", ".join(
            f"{d['key']} {d['before']} \u2192 {d['after']}" for d in change["observed"])
    return (f"<td class=\"{' '.join(cls)}\" data-claim=\"{_e(cid)}\" title=\"{_e(info)}\" "
            f"data-info=\"{_e(info)}\">{_e(_short(claim))}{mark}</td>")


def matrix(runs: list[dict], only_differing: bool = False, table_id: str = "ipcc-matrix") -> str:
    """Rows claims (by facility), columns runs.  only_differing: the claims whose verdict
    (or partial cases) differ from the baseline on some run."""
    ids, entry, by_run = _index(runs)
    diffs = _diffs(runs)
    head = "".join(f"<th>{_e(r['label'])}{' (baseline)' if i == 0 and len(runs) > 1 else ''}</th>"
                   for i, r in enumerate(runs))
    rows, facility = [], None
    for cid in ids:
        changes = [d.get(cid) for d in diffs]
        if only_differing and not any(c and c["kind"] not in ("value", "unselected")
                                      for c in changes):
            continue
        fac = entry[cid].get("facility") or cid.split(".")[0]
        if fac != facility and not only_differing:  # the short table: the id says it
            facility = fac
            rows.append(f"<tr class=\"fac\"><td colspan=\"{len(runs) + 2}\">{_e(fac)}</td></tr>")
        cells = "".join(_cell(cid, claims.get(cid), run, change)
                        for claims, run, change in zip(by_run, runs, changes))
        rows.append(f"<tr data-claim-row=\"{_e(cid)}\"><td class=\"cid\">{_e(cid)}</td>"
                    f"<td class=\"sentence\" title=\"{_e(entry[cid].get('claim') or '')}\">"
                    f"{_e(entry[cid].get('claim') or '')}</td>{cells}</tr>")
    if only_differing and not rows:
        partly = any(selection_of(r["record"]) for r in runs)
        return (f"<p id=\"{table_id}\">Every claim has the same verdict on every run"
                f"{' that ran it' if partly else ''} ({len(ids)} claims).</p>")
    return (f"<table id=\"{table_id}\"><tr><th>claim</th><th>sentence</th>{head}</tr>"
            f"{''.join(rows)}</table>")


def needs_a_reader(run: dict) -> str:
    """One run: every claim that does not plainly hold, with its reason, one line each."""
    rows = []
    for c in run["record"].get("claims", []):
        if c["verdict"] == "holds" and not partial_cases(c):
            continue
        rows.append(f"<tr data-claim-row=\"{_e(c['id'])}\"><td class=\"cid\">{_e(c['id'])}</td>"
                    + _cell(c["id"], c, run, None)
                    + f"<td>{_e(_reason_line(c))}</td></tr>")
    if not rows:
        return "<p id=\"ipcc-matrix\">Every claim holds, every case ran.</p>"
    return ("<table id=\"ipcc-matrix\"><tr><th>claim</th><th>verdict</th><th>reason</th></tr>"
            + "".join(rows) + "</table>")


def claim_details(cid: str, entry: dict, runs: list[dict], by_run: list[dict]) -> str:
    """One claim, once: sentence, verdict and reason per run, evidence, its test cases."""
    chips = "".join(f"<span class=\"chip {_cls(claims.get(cid))}\" title=\"{_e(run['label'])}\">"
                    f"{_e(_short(claims.get(cid)))}</span>" for claims, run in zip(by_run, runs))
    out = [f"<details class=\"claim\" id=\"claim-{_e(cid)}\"><summary><code>{_e(cid)}</code> "
           f"{_e(entry.get('claim') or '')}{chips}</summary>"]
    for claims, run in zip(by_run, runs):
        c = claims.get(cid)
        out.append(f"<p class=\"reason\"><b>{_e(run['label'])}</b>: {_e(verdict_text(c))}"
                   + (f" \u2014 {_e(_reason_line(c))}" if _reason_line(c) else "") + "</p>")
    facts = []
    erratum = entry.get("erratum")
    if isinstance(erratum, dict) and erratum.get("wording"):
        where = " / ".join(str(erratum[k]) for k in ("document", "section") if erratum.get(k))
        facts.append(f"<b>Erratum</b>: the source says \u201c{_e(erratum['wording'])}\u201d"
                     + (f" ({_e(where)})" if where else ""))
    sources = [" / ".join(str(s[k]) for k in ("document", "section") if s.get(k))
               for s in entry.get("sources") or [] if isinstance(s, dict)]
    if sources:
        facts.append("<b>Sources</b>: " + "; ".join(_e(s) for s in sources))
    if entry.get("man"):
        facts.append("<b>Man pages</b>: " + ", ".join(_e(m) for m in entry["man"]))
    if entry.get("linux"):
        facts.append(f"<b>Linux</b>: {_e(entry['linux'])}")
    changes = [change_text(c) for c in entry.get("changes") or [] if isinstance(c, dict)]
    if changes:
        facts.append("<b>Where Linux changes</b>: " + "; ".join(_e(c) for c in changes))
    if entry.get("kconfig"):
        facts.append("<b>Needs</b>: " + ", ".join(_e(k) for k in entry["kconfig"]))
    out += [f"<p>{f}</p>" for f in facts]
    keys = sorted({k for claims in by_run for k in ((claims.get(cid) or {}).get("observed") or {})})
    head = "".join(f"<th>{_e(r['label'])}</th>" for r in runs)
    if keys:
        out.append(f"<table class=\"observed\"><tr><th>observed</th>{head}</tr>" + "".join(
            f"<tr><td><code>{_e(k)}</code></td>" + "".join(
                f"<td><code>{_e(_value(((claims.get(cid) or {}).get('observed') or {}).get(k, '')))}"
                f"</code></td>" for claims in by_run) + "</tr>" for k in keys) + "</table>")
    tests: dict[str, list] = {}
    for i, claims in enumerate(by_run):
        for t in (claims.get(cid) or {}).get("tests") or []:
            if isinstance(t, dict) and t.get("nodeid"):
                tests.setdefault(t["nodeid"], [None] * len(runs))[i] = t
    if tests:
        rows = []
        for nodeid, per_run in tests.items():
            cells = "".join(
                "<td>\u2014</td>" if t is None else
                f"<td title=\"{_e(t.get('message') or '')}\">{_e(t.get('outcome'))}"
                + (f": {_e(t['message'])}" if t.get("message") else "") + "</td>"
                for t in per_run)
            rows.append(f"<tr class=\"test\"><td><code>{_e(nodeid.split('::', 1)[-1])}</code></td>"
                        f"{cells}</tr>")
        out.append(f"<table class=\"tests\"><tr><th>test case</th>{head}</tr>{''.join(rows)}"
                   "</table>")
    out.append("</details>")
    return "".join(out)


def overview(runs: list[dict], drill_down: bool = True) -> str:
    """The whole claims-first section (style, content, script) for the top of the report;
    drill_down: the Allure test view follows it in the page."""
    ids, entry, by_run = _index(runs)
    several = len(runs) > 1
    kernels = {((r["record"].get("host") or {}).get("kernel_release"), r["label"].split(" #")[0])
               for r in runs}
    noun = "kernel" if len(kernels) == len(runs) else "run"
    what = f"{len(ids)} claims on {len(runs)} {noun}{'s' if several else ''}"
    out = [f"<style>{CSS}</style><section id=\"ipcc-claims\">",
           f"<h1>ipc-conformance: {_e(what)}</h1>",
           "<p class=\"sub\">Verdicts per claim: holds, violated (the kernel did something "
           "else), not applicable (facility or privilege absent), error (the suite broke). "
           "Click a cell for its reason; the test cases are under each claim"
           + (", and the test-level view is below. <button class=\"drill\" id=\"ipcc-drill\" "
              "type=\"button\">Test cases (Allure) \u2193</button></p>" if drill_down else ".</p>"),
           "<h2>Claims per verdict</h2>"]
    for run in runs:
        selection = selection_of(run["record"])
        out.append(f"<div class=\"runline\" data-run=\"{_e(run['label'])}\"><span class=\"who\">"
                   f"{_e(run['label'])}</span>{_tiles(run['record'])}"
                   + (f"<span class=\"sub\">{_e(selection)}, not the whole suite</span>"
                      if selection else "") + "</div>")
    out.append("<div id=\"ipcc-cell-info\">Click a verdict to read its reason here.</div>")
    if several:
        out += [f"<h2>Where the kernels differ (baseline: {_e(runs[0]['label'])})</h2>",
                "<p class=\"legend sub\"><span>solid outline: differs from the baseline, "
                "unexplained</span><span>dashed: differs as the catalogue expects (version, "
                "kconfig, capability)</span></p>",
                matrix(runs, only_differing=True, table_id="ipcc-differences")]
    else:
        out += ["<h2>Claims that do not plainly hold</h2>", needs_a_reader(runs[0])]
    out += ["<h2>Facility \u00d7 verdict</h2>", facility_table(runs)]
    if several:
        out += ["<h2>Every claim \u00d7 kernel</h2>", matrix(runs)]
    out.append(f"<h2>The claims ({len(ids)}), each with its test cases</h2>")
    out += [claim_details(cid, entry[cid], runs, by_run) for cid in ids]
    out.append(f"</section><script>{SCRIPT}</script>")
    return "\n".join(out)


def inject(page: str, fragment: str) -> str:
    """Put the overview first in the Allure page's body."""
    i = page.find("<body")
    j = page.find(">", i) + 1 if i >= 0 else -1
    if j <= 0:
        return fragment + page
    return page[:j] + "\n" + fragment + "\n" + page[j:]
