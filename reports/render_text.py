"""The comparison as plain text for a terminal: the first screen says what fails the gate."""

from __future__ import annotations

import shutil
import textwrap

from reports.model import (KIND_LABELS, brief, erratum_text, groups, headline, partial_text,
                          reason_of, short_note, tally_text, verdict_arrow)
from reports.records import VERDICTS


def _table(header: list[str], rows: list[list[str]], width: int) -> list[str]:
    cols = len(header)
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(cols)]
    # shrink the widest value columns (not the labels) until the table fits
    while sum(widths) + 2 * (cols - 1) > width and max(widths[1:]) > 12:
        i = widths.index(max(widths[1:]), 1)
        widths[i] -= 1

    def cell(text: str, w: int) -> str:
        text = str(text)
        return (text[: w - 1] + "\u2026") if len(text) > w else text.ljust(w)
    lines = ["  ".join(cell(h, w) for h, w in zip(header, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    for r in rows:
        lines.append("  ".join(cell(c, w) for c, w in zip(r, widths)).rstrip())
    return lines


def render_text(cmp: dict, width: int | None = None) -> str:
    width = width or min(shutil.get_terminal_size((100, 24)).columns, 140)
    short = [r["short"] for r in cmp["runs"]]
    out = [f"ipc-conformance comparison, baseline {short[0]} ({cmp['runs'][0]['label']})",
           headline(cmp)]
    for note in cmp.get("selections") or []:
        out += textwrap.wrap(f"NOT A FULL COMPARISON: {note}", width=width,
                             subsequent_indent="    ")
    # first screen: per run, one line per verdict change (unexplained first)
    for p in cmp["pairs"]:
        flag = "  <- FAILS THE GATE" if p["blocking"] else ""
        out += textwrap.wrap(f"{p['short']} ({p['label']}): {tally_text(p)}"
                             f"{flag}", width=width, subsequent_indent="    ")
        first = brief(p)
        for c in first[:12]:
            note = short_note(c)
            out.append(f"  {KIND_LABELS[c['kind']]:<14} {c['id']:<28} {verdict_arrow(c)}"
                       + (f"  ({note})" if note else ""))
        if len(first) > 12:
            out.append(f"  ... and {len(first) - 12} more below")
    out.append("")
    header = [""] + [f"{s}{' (base)' if i == 0 else ''}" for i, s in enumerate(short)]
    rows = [[("* " if row["differs"] else "  ") + row["label"]] + row["values"]
            for row in cmp["identity"]]
    rows += [[v] + [str(r["counts"][v]) for r in cmp["runs"]] for v in VERDICTS]
    if any(r["counts"].get("partial") for r in cmp["runs"]):
        rows += [["  holds (partial)"] + [str(r["counts"].get("partial", 0)) for r in cmp["runs"]]]
    rows += [["claims"] + [str(r["counts"]["total"]) for r in cmp["runs"]]]
    out += _table(header, rows, width)
    out.append("(* differs between the runs)")
    wrap = textwrap.TextWrapper(width=max(width - 6, 40), initial_indent="      ",
                                subsequent_indent="      ")
    for p in cmp["pairs"]:
        out.append("")
        out.append(f"== {p['short']} ({p['label']}) vs baseline "
                   f"{short[0]} ==")
        if not p["changes"]:
            out.append("  no differences")
        for heading, items in groups(p):
            out.append(f"-- {heading}: {len(items)}")
            for c in items:
                sev = f" [{c['severity']}]" if c["severity"] else ""
                out.append(f"  {KIND_LABELS[c['kind']]:<14} {c['id']}  {verdict_arrow(c)}{sev}")
                if c["claim"]:
                    out += wrap.wrap(c["claim"])
                for d in c["observed"]:
                    out += wrap.wrap(f"observed {d['key']}: {d['before']} \u2192 {d['after']}")
                if reason_of(c):
                    out += wrap.wrap(f"reason: {reason_of(c)}")
                if partial_text(c):
                    out += wrap.wrap(partial_text(c))
                for note in c["expected"]:
                    out += wrap.wrap(f"expected by {note}")
                if c["erratum"]:
                    out += wrap.wrap(erratum_text(c["erratum"]))
    return "\n".join(out) + "\n"

