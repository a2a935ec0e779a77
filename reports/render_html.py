"""The comparison as one self-contained HTML page (no script, no outside resource)."""

from __future__ import annotations

import html
from typing import Any

from reports.model import (KIND_LABELS, brief, erratum_text, groups, headline, partial_text,
                          reason_of, short_note, side, tally_text, verdict_arrow)
from reports.records import VERDICTS


_CSS = """
body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.5em;color:#1d2228}
h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.15em;margin-top:1.6em}h3{font-size:1em}
.status{padding:.6em 1em;border-radius:6px;font-weight:600;margin:.6em 0}
.fail{background:#fde2e1;border:1px solid #d33}.ok{background:#e3f6e5;border:1px solid #2a2}
table{border-collapse:collapse;margin:.4em 0}th,td{border:1px solid #ccd;padding:.25em .5em;
vertical-align:top;text-align:left}th{background:#f0f2f5}
tr.differs td:first-child{font-weight:600}tr.differs td{background:#fff8e1}
.k-regression,.k-error{color:#b00;font-weight:700}.k-fix{color:#070;font-weight:700}
.k-value,.k-verdict{color:#a60;font-weight:700}.k-new,.k-missing,.k-applicable,.k-not_applicable{color:#446;font-weight:700}
.expected{color:#555}.sentence{color:#333}.note{font-size:.9em;color:#555}code{font-size:.95em}
.v-holds{color:#070}.v-violated{color:#b00}.v-error{color:#b00}.v-not_applicable{color:#777}
"""


def _h(text: Any) -> str:
    return html.escape(str(text), quote=True)


def claims_matrix(cmp: dict, records: list[dict]) -> str:
    """The report's claims x runs table of the claims that differ, colours and reasons on
    hover included (reports.render_claims, over the same model)."""
    from reports.render_claims import CSS, matrix
    runs = [{"label": r["short"], "record": rec} for r, rec in zip(cmp["runs"], records)]
    return (f"<style>{CSS}</style><section id=\"ipcc-claims\"><h2>Where the runs differ, "
            f"claim by claim</h2><p class=\"sub\">Solid outline: unexplained; dashed: as the "
            f"catalogue expects. Hover a cell for its reason.</p>"
            f"{matrix(runs, only_differing=True, table_id='ipcc-differences')}</section>")


def render_html(cmp: dict, records: list[dict] | None = None) -> str:
    """The page; with the records, also the claims x runs table of what differs."""
    short = [r["short"] for r in cmp["runs"]]
    cls = "fail" if cmp["blocking"] else "ok"
    out = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
           "<meta name=\"viewport\" content=\"width=device-width\">",
           f"<title>ipc-conformance comparison: {_h(' vs '.join(short))}</title>",
           f"<style>{_CSS}</style></head><body>",
           "<h1>ipc-conformance: kernel comparison</h1>",
           f"<div class=\"status {cls}\" id=\"status\">{_h(headline(cmp))}</div>"]
    for note in cmp.get("selections") or []:
        out.append(f"<p class=\"selection\"><b>Not a full comparison</b>: {_h(note)}</p>")
    out.append("<ul>")
    for p in cmp["pairs"]:
        out.append(f"<li><code>{_h(p['short'])}</code> ({_h(p['label'])}) vs "
                   f"baseline <code>{_h(short[0])}</code>: {_h(tally_text(p))}"
                   + (" &mdash; <b>fails the gate</b>" if p["blocking"] else ""))
        first = brief(p)
        if first:
            out.append("<ul class=\"brief\">")
            for c in first[:12]:
                note = short_note(c)
                out.append(f"<li><span class=\"k-{c['kind']}\">{KIND_LABELS[c['kind']]}</span> "
                           f"<code>{_h(c['id'])}</code> {_h(verdict_arrow(c))}"
                           + (f" <span class=\"expected\">({_h(note)})</span>" if note else "")
                           + "</li>")
            if len(first) > 12:
                out.append(f"<li>... and {len(first) - 12} more below</li>")
            out.append("</ul>")
        out.append("</li>")
    out.append("</ul>")
    if records:
        out.append(claims_matrix(cmp, records))
    out.append("<h2>Runs</h2><table id=\"identity\"><tr><th></th>"
               + "".join(f"<th>{_h(s)}{' (baseline)' if i == 0 else ''}</th>"
                         for i, s in enumerate(short)) + "</tr>")
    for row in cmp["identity"]:
        out.append(f"<tr class=\"{'differs' if row['differs'] else ''}\"><td>{_h(row['label'])}"
                   "</td>" + "".join(f"<td>{_h(v)}</td>" for v in row["values"]) + "</tr>")
    for v in VERDICTS:
        out.append(f"<tr><td class=\"v-{v}\">{v}</td>"
                   + "".join(f"<td>{r['counts'][v]}</td>" for r in cmp["runs"]) + "</tr>")
    if any(r["counts"].get("partial") for r in cmp["runs"]):
        out.append("<tr><td class=\"v-holds\">holds (partial)</td>" + "".join(
            f"<td>{r['counts'].get('partial', 0)}</td>" for r in cmp["runs"]) + "</tr>")
    out.append("</table><p class=\"note\">Highlighted rows differ between the runs.</p>")
    for p in cmp["pairs"]:
        out.append(f"<h2>{_h(p['short'])} ({_h(p['label'])}) vs baseline</h2>")
        if not p["changes"]:
            out.append("<p>No differences.</p>")
        for heading, items in groups(p):
            expected = heading.startswith("Expected")
            h3 = '<h3 class="expected">' if expected else "<h3>"
            out.append(f"{h3}{_h(heading)}: "
                       f"{len(items)}</h3><table class=\"changes\"><tr><th>claim</th><th>change"
                       "</th><th>verdict</th><th>observed</th><th>why / reason</th></tr>")
            for c in items:
                obs = "<br>".join(f"{_h(d['key'])}: {_h(d['before'])} &rarr; {_h(d['after'])}"
                                  for d in c["observed"])
                why = "<br>".join([f"<span class=\"expected\">expected by {_h(n)}</span>"
                                   for n in c["expected"]]
                                  + ([_h(reason_of(c))] if reason_of(c) else [])
                                  + ([_h(partial_text(c))] if partial_text(c) else [])
                                  + ([f"<i>{_h(erratum_text(c['erratum']))}</i>"]
                                     if c["erratum"] else []))
                out.append(f"<tr data-claim=\"{_h(c['id'])}\"><td><code>{_h(c['id'])}</code><br>"
                           f"<span class=\"sentence\">{_h(c['claim'])}</span></td>"
                           f"<td class=\"k-{c['kind']}\">{KIND_LABELS[c['kind']]}</td>"
                           f"<td><span class=\"v-{_h(c['before'])}\">"
                           f"{_h(side(c['before'], c['partial_before']))}"
                           f"</span> &rarr; <span class=\"v-{_h(c['after'])}\">"
                           f"{_h(side(c['after'], c['partial_after']))}</span></td><td>{obs}</td>"
                           f"<td>{why}</td></tr>")
            out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"

