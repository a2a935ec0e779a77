"""Compare run records (schema 1) from several hosts or kernels.

    python -m reports.compare A.json B.json [C.json ...] [--format text|markdown|html|json]
                                                         [--output FILE] [--fail-on-error]

The first record is the baseline; every other record is compared with it by
claim id, the way SQUAD/LKFT and KernelCI compare a build against its base.

Exit status: 0 when nothing fails the gate, 1 when a claim went from holds to
violated or from holds to error without an explanation from the catalogue
(version, kconfig, capability), or a claim of the baseline is missing from a
full record (with --fail-on-error also any other new error), 2 for bad input
(one line on stderr naming the file and the problem).  A record marked as a
selection (``run.selection``: a -k or path selection, or --collect-only) is
compared on the claims it ran only, and the headline says so.

Plain functions over dicts, in modules of their own: reports.records (``load_record``:
path -> dict or RecordError), reports.model (``compare_pair``: two records -> changes;
``build_comparison``: records -> one dict the renderers read) and reports.render_text /
render_markdown / render_html.  This module is the command line; it re-exports those
names for the callers that import them from here.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Iterable

from reports.model import *  # noqa: F401,F403 - the comparison's names, for its callers
from reports.model import build_comparison, headline
from reports.records import *  # noqa: F401,F403
from reports.records import RecordError, load_record
from reports.render_html import render_html
from reports.render_markdown import render_markdown
from reports.render_text import render_text


def render_json(cmp: dict) -> str:
    return json.dumps(cmp, indent=2, ensure_ascii=False, default=str) + "\n"


RENDERERS = {"text": render_text, "markdown": render_markdown, "html": render_html,
             "json": render_json}


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m reports.compare",
        description="Compare ipc-conformance run records (schema 1); the first is the baseline.",
        epilog="Exit status: 0 nothing fails the gate; 1 an unexplained holds -> violated or "
               "holds -> error, or a baseline claim missing from a full record; 2 bad input.")
    p.add_argument("records", nargs="+", metavar="RECORD.json")
    p.add_argument("-f", "--format", choices=sorted(RENDERERS), default=None,
                   help="output format (default: text, or from the --output suffix "
                        ".md/.html/.json)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument("--fail-on-error", action="store_true",
                   help="also exit 1 on any other new error (violated -> error, not_applicable "
                        "-> error); holds -> error fails the gate without it")
    return p


def main(argv: Iterable[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # argparse prints its own message
        return 0 if exc.code == 0 else 2
    if len(args.records) < 2:
        print("compare: need at least two records (the first is the baseline)", file=sys.stderr)
        return 2
    records, bad = [], False
    for path in args.records:
        try:
            records.append(load_record(path))
        except RecordError as exc:
            print(f"compare: {exc}", file=sys.stderr)
            bad = True
    if bad:
        return 2
    fmt_name = args.format
    if fmt_name is None:
        suffix = os.path.splitext(args.output or "")[1].lower()
        fmt_name = {".md": "markdown", ".html": "html", ".htm": "html",
                    ".json": "json"}.get(suffix, "text")
    cmp = build_comparison(records, list(args.records), fail_on_error=args.fail_on_error)
    text = render_html(cmp, records) if fmt_name == "html" else RENDERERS[fmt_name](cmp)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            print(f"compare: {args.output}: cannot write: {exc.strerror or exc}", file=sys.stderr)
            return 2
        print(headline(cmp) + f" (written to {args.output})", file=sys.stderr)
    else:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:  # `| head`
            try:
                sys.stdout = open(os.devnull, "w")
            except OSError:
                pass
    return cmp["exit_status"]


if __name__ == "__main__":
    sys.exit(main())

