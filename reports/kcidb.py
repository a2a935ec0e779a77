"""A run record in KernelCI's KCIDB I/O JSON (schema v5.3, package kcidb-io), for labs
that submit their results to KernelCI.

    python -m reports.kcidb RECORD.json [-o FILE] [--origin NAME] [--build-id ORIGIN:ID]
    ./ipcc export kcidb RECORD.json [-o FILE] ...

One checkout and one build describe the kernel that ran (KCIDB keys tests by build; a lab
that tests a build KernelCI already knows passes --build-id and only tests are written),
and one test per claim: path ``ipc_conformance.<claim id>`` (prefixed by the facility when
the id does not start with it), status PASS (holds), FAIL (violated), SKIP
(not_applicable), ERROR (error); the claim's sentence as the comment, its reason as the
log excerpt, the host facts as the environment's misc and the claim's evidence (verdict,
partial cases, observed values, severity, erratum) as the test's misc.  With kcidb-io
installed (the dev extra) the output is validated before it is written.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from typing import Any

from reports.records import RecordError, load_record, partial_cases

STATUS = {"holds": "PASS", "violated": "FAIL", "not_applicable": "SKIP", "error": "ERROR"}
ORIGIN = "ipc_conformance"
SUITE = "ipc_conformance"
VERSION = {"major": 5, "minor": 3}
LOG_EXCERPT_MAX = 16384
# every test carries who ran it; the kernel's configuration, sysctls and rlimits go once, in
# the build's misc (or into every test when there is no build object of ours to carry them)
ENVIRONMENT_FACTS = ("hostname", "kernel_release", "kernel_version", "arch", "abi",
                     "personality", "page_size", "uid", "gid", "capabilities", "container",
                     "distro", "libc", "python", "pip")
CONFIG_FACTS = ("kconfig_source", "kconfig", "sysctls", "rlimits")


def _clean(text: Any) -> str:
    """KCIDB strings must not contain NUL."""
    return str(text or "").replace("\0", "\ufffd")


def test_path(claim: dict) -> str:
    """'ipc_conformance.pipe.capacity.default'; 'ipc_conformance.pipe.socketpair.duplex'
    for a claim whose id does not start with its facility."""
    cid, facility = claim["id"], claim.get("facility") or claim["id"].split(".")[0]
    parts = cid.split(".") if cid.startswith(facility + ".") else [facility] + cid.split(".")
    return ".".join([SUITE] + [re.sub(r"[^A-Za-z0-9_-]", "_", p) or "_" for p in parts])


def run_id(record: dict) -> str:
    """Stable per run: the same record always gives the same KCIDB ids."""
    run, host = record.get("run") or {}, record.get("host") or {}
    key = json.dumps([run.get("started"), host.get("hostname"), host.get("kernel_release"),
                      host.get("arch")], sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:20]


def environment(record: dict, with_config: bool = False) -> dict:
    host = record.get("host") or {}
    caps = host.get("capabilities") or {}
    missing = caps.get("missing") if isinstance(caps, dict) else None
    comment = (f"{host.get('hostname') or '?'}: {host.get('distro') or 'unknown distro'}, "
               f"{host.get('libc') or 'unknown libc'}, uid {host.get('uid')}"
               + (f", missing {' '.join(missing)}" if missing else ""))
    return {"comment": _clean(comment),
            "misc": {k: host[k] for k in ENVIRONMENT_FACTS + (CONFIG_FACTS if with_config else ())
                     if k in host}}


def test_object(claim: dict, record: dict, build_id: str, origin: str, rid: str,
                with_config: bool = False) -> dict:
    run = record.get("run") or {}
    obj: dict[str, Any] = {
        "id": f"{origin}:{rid}:{claim['id']}",
        "build_id": build_id,
        "origin": origin,
        "path": test_path(claim),
        "status": STATUS.get(claim.get("verdict"), "ERROR"),
        "comment": _clean(f"{claim['id']}: {claim.get('claim') or ''}"),
        "environment": environment(record, with_config),
        "misc": {k: v for k, v in {
            "claim_id": claim["id"], "verdict": claim.get("verdict"),
            "severity": claim.get("severity"), "partial": partial_cases(claim) or None,
            "observed": claim.get("observed") or None, "erratum": claim.get("erratum"),
            "tests": [t.get("nodeid") for t in claim.get("tests") or [] if isinstance(t, dict)]
            or None,
        }.items() if v is not None},
    }
    excerpt = claim.get("reason") or ""
    if partial_cases(claim):
        excerpt = "; ".join(([excerpt] if excerpt else []) + [
            f"not run: {p.get('case')}: {p.get('why')}" for p in partial_cases(claim)])
    if excerpt:
        obj["log_excerpt"] = _clean(excerpt)[:LOG_EXCERPT_MAX]
    if run.get("started"):
        obj["start_time"] = run["started"]
    try:
        obj["duration"] = float(claim.get("duration_s"))
    except (TypeError, ValueError):
        pass
    return obj


def render(record: dict, origin: str = ORIGIN, build_id: str | None = None) -> dict:
    """The KCIDB I/O object for one record."""
    if not re.fullmatch(r"[a-z0-9_]+", origin):
        raise ValueError(f"origin {origin!r}: KCIDB origins are lower-case letters, digits and _")
    rid = run_id(record)
    host, run = record.get("host") or {}, record.get("run") or {}
    data: dict[str, Any] = {"version": dict(VERSION)}
    ours = build_id is None
    if ours:
        checkout_id = build_id = f"{origin}:{rid}"
        release = host.get("kernel_release") or "unknown kernel"
        data["checkouts"] = [{
            "id": checkout_id, "origin": origin,
            "comment": _clean(f"the running kernel {release} (not built by this suite)"),
            "misc": {"kernel_release": host.get("kernel_release"),
                     "kernel_version": host.get("kernel_version")},
        }]
        data["builds"] = [{
            "id": build_id, "checkout_id": checkout_id, "origin": origin,
            "comment": _clean(f"{release} {host.get('arch') or ''}".strip()),
            **({"architecture": host["arch"]} if host.get("arch") else {}),
            **({"start_time": run["started"]} if run.get("started") else {}),
            "misc": {k: host[k] for k in CONFIG_FACTS if k in host},
        }]
    data["tests"] = [test_object(c, record, build_id, origin, rid, with_config=not ours)
                     for c in record.get("claims") or []]
    return data


def validate(data: dict) -> str | None:
    """Validate with kcidb-io; returns the schema version checked, None when kcidb-io is
    not installed.  Raises the validator's error on invalid data."""
    try:
        import kcidb_io
    except ImportError:
        return None
    kcidb_io.schema.LATEST.validate(data)
    return str(kcidb_io.schema.LATEST)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="./ipcc export kcidb",
        description="Write a run record as KCIDB I/O JSON (one test per claim) for KernelCI.",
        epilog="Submit the file with the credentials KernelCI gives your lab (see README).")
    p.add_argument("record", metavar="RECORD.json")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument("--origin", default=ORIGIN,
                   help=f"your CI system's KCIDB origin, as KernelCI registered it "
                        f"(default {ORIGIN})")
    p.add_argument("--build-id", metavar="ORIGIN:ID",
                   help="attach the tests to a build KCIDB already has (no checkout/build "
                        "objects are written)")
    args = p.parse_args(argv)
    try:
        record = load_record(args.record)
        data = render(record, args.origin, args.build_id)
    except (RecordError, ValueError) as exc:
        print(f"export kcidb: {exc}", file=sys.stderr)
        return 2
    try:
        checked = validate(data)
    except Exception as exc:  # noqa: BLE001 - jsonschema's ValidationError, one line
        print(f"export kcidb: the output does not validate: {str(exc).splitlines()[0]}",
              file=sys.stderr)
        return 2
    text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            print(f"export kcidb: {args.output}: cannot write: {exc.strerror or exc}",
                  file=sys.stderr)
            return 2
    else:
        sys.stdout.write(text)
    print(f"export kcidb: {len(data['tests'])} tests"
          + (f" written to {args.output}" if args.output else "")
          + (f", valid KCIDB {checked}" if checked else
             " (not validated: install kcidb-io, the dev extra, to check the schema)"),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
