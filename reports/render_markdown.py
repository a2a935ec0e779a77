"""The comparison as GitHub Markdown (a CI job summary or a pull-request comment)."""

from __future__ import annotations

import re
from typing import Any

from reports.model import (KIND_LABELS, brief, erratum_text, groups, headline, partial_text,
                          reason_of, short_note, tally_text, verdict_arrow)
from reports.records import VERDICTS


def _md(text: Any) -> str:
    s = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    s = s.replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([`*_\[\]])", r"\\\1", s)


def _code(text: Any) -> str:
    """A Markdown code span: backslash escapes are literal inside one, so only the
    backtick (cannot occur) and the table pipe are handled."""
    return "`" + str(text).replace("`", "'").replace("|", "\\|").replace("\n", " ") + "`"


def render_markdown(cmp: dict) -> str:
    short = [r["short"] for r in cmp["runs"]]
    icon = "\u274c" if cmp["blocking"] else "\u2705"
    out = ["## ipc-conformance: kernel comparison", "",
           f"{icon} **{_md(headline(cmp))}**", ""]
    for note in cmp.get("selections") or []:
        out += [f"> **Not a full comparison**: {_md(note)}", ""]
    for p in cmp["pairs"]:
        out.append(f"- {_code(p['short'])} ({_md(p['label'])}) vs baseline "
                   f"{_code(short[0])}: {_md(tally_text(p))}" + (" \u2014 **fails the gate**" if p["blocking"] else ""))
        first = brief(p)
        for c in first[:12]:
            note = short_note(c)
            out.append(f"  - {'**' if c in p['blocking'] else ''}{KIND_LABELS[c['kind']]}"
                       f"{'**' if c in p['blocking'] else ''} {_code(c['id'])} "
                       f"{_md(verdict_arrow(c))}" + (f" _({_md(note)})_" if note else ""))
        if len(first) > 12:
            out.append(f"  - ... and {len(first) - 12} more below")
    out += ["", "| | " + " | ".join(f"{_md(s)}{' (baseline)' if i == 0 else ''}"
                                   for i, s in enumerate(short)) + " |",
            "|---" * (len(short) + 1) + "|"]
    for row in cmp["identity"]:
        label = f"**{_md(row['label'])}**" if row["differs"] else _md(row["label"])
        out.append(f"| {label} | " + " | ".join(_md(v) for v in row["values"]) + " |")
    for v in VERDICTS:
        out.append(f"| {v} | " + " | ".join(str(r["counts"][v]) for r in cmp["runs"]) + " |")
    if any(r["counts"].get("partial") for r in cmp["runs"]):
        out.append("| holds (partial) | " + " | ".join(str(r["counts"].get("partial", 0))
                                                      for r in cmp["runs"]) + " |")
    for p in cmp["pairs"]:
        out += ["", f"### {_code(p['short'])} ({_md(p['label'])}) vs baseline"]
        if not p["changes"]:
            out += ["", "No differences."]
        for heading, items in groups(p):
            expected = heading.startswith("Expected")
            body = ["", "| claim | change | verdict | observed | why / reason |",
                    "|---|---|---|---|---|"]
            for c in items:
                obs = "<br>".join(f"{_md(d['key'])}: {_md(d['before'])} \u2192 {_md(d['after'])}"
                                  for d in c["observed"])
                why = "<br>".join(["expected by " + _md(n) for n in c["expected"]]
                                  + ([_md(reason_of(c))] if reason_of(c) else [])
                                  + ([_md(partial_text(c))] if partial_text(c) else [])
                                  + ([_md(erratum_text(c["erratum"]))] if c["erratum"] else []))
                body.append(f"| {_code(c['id'])}<br>{_md(c['claim'])} | {KIND_LABELS[c['kind']]} "
                            f"| {_md(verdict_arrow(c))} | {obs} | {why} |")
            if expected or heading.startswith(("Observed", "New claims", "Not in the")):
                out += ["", f"<details><summary>{heading}: {len(items)}</summary>"] + body + \
                       ["", "</details>"]
            else:
                out += ["", f"#### {heading}: {len(items)}"] + body
    return "\n".join(out) + "\n"

