"""KTAP version 1 summary of a run record (schema 1), for LKFT-style tooling.

    render(record) -> str

One result line per claim, in record order (claims are sorted by id)::

    KTAP version 1
    # ipc-conformance 0.1.0 on 6.18.44-fc-v657 x86_64
    1..3
    ok 1 fifo.rdwr
    # pipe.atomic.small: violated: 3 of 4000 records came back interleaved
    not ok 2 pipe.atomic.small
    ok 3 sysv.tools # SKIP ipcs not found in PATH; install util-linux
    ok 4 signal.kill.eperm # partial: not run: pid1 case: this process holds CAP_KILL
    # Totals: pass:1 fail:1 xfail:0 xpass:0 skip:1 error:0

Verdicts map to results as: holds -> ok, violated -> not ok, error -> not ok
(with an "error" diagnostic), not_applicable -> ok # SKIP <reason>; a claim that holds
with some cases not run (the record's "partial") -> ok # partial: <cases and why>.  The
diagnostic lines for a failure come before its result line, as kselftest and
KUnit print them; the Totals line is the kselftest one.

    python -m reports.ktap record.json   # prints the KTAP text
"""

from __future__ import annotations

import json
import re
import sys

from reports.records import partial_cases

_WS = re.compile(r"\s+")


def _one_line(text: object) -> str:
    """Collapse whitespace so a reason fits on one KTAP line."""
    return _WS.sub(" ", str(text or "")).strip()


def _name(claim_id: str) -> str:
    # a test name must not contain '#' (it starts a directive) or a newline
    return _one_line(claim_id).replace("#", "_") or "unnamed"


def render(record: dict) -> str:
    claims = list(record.get("claims") or [])
    host = record.get("host") or {}
    run = record.get("run") or {}
    lines = ["KTAP version 1"]
    who = " ".join(str(x) for x in (host.get("kernel_release"), host.get("arch")) if x)
    lines.append(_one_line(f"# ipc-conformance {run.get('suite_version') or ''} on {who or 'unknown kernel'}"))
    lines.append(f"1..{len(claims)}")
    totals = {"pass": 0, "fail": 0, "skip": 0, "error": 0}
    for n, claim in enumerate(claims, 1):
        cid = _name(claim.get("id", ""))
        verdict = claim.get("verdict")
        reason = _one_line(claim.get("reason"))
        if verdict == "holds":
            totals["pass"] += 1
            if reason:  # which documented behaviour this kernel showed (e.g. mand ignored)
                lines.append(f"# {cid}: {reason}")
            partial = partial_cases(claim)
            if partial:
                lines.append(_one_line(f"ok {n} {cid} # partial: not run: " + "; ".join(
                    f"{p.get('case')}: {p.get('why')}" for p in partial)))
            else:
                lines.append(f"ok {n} {cid}")
        elif verdict == "not_applicable":
            totals["skip"] += 1
            lines.append(f"ok {n} {cid} # SKIP {reason or 'not applicable'}".rstrip())
        elif verdict == "violated":
            totals["fail"] += 1
            lines.append(f"# {cid}: violated: {reason or 'claim does not hold'}")
            for key, value in sorted((claim.get("observed") or {}).items()):
                lines.append(_one_line(f"# {cid}: observed {key} = {json.dumps(value, ensure_ascii=False)}"))
            lines.append(f"not ok {n} {cid}")
        else:  # error, or anything unknown: never report it as a pass
            totals["error"] += 1
            lines.append(f"# {cid}: error: {reason or verdict or 'no verdict'}")
            lines.append(f"not ok {n} {cid}")
    lines.append("# Totals: pass:{pass} fail:{fail} xfail:0 xpass:0 skip:{skip} error:{error}"
                 .format(**totals))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from reports.records import render_main
    return render_main("ktap", render, sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
