"""The human report: Allure results (+ run records) -> one offline HTML file.

    python -m reports.html_report [INPUT ...] [-o reports/out/report.html]

INPUT is an allure results directory (its run record is the ``record.json``
beside it, as the suite writes ``reports/out/allure-results/`` and
``reports/out/record.json``) or a run record (its results are the
``allure-results/`` beside it; without one, the claims of the record itself
become the report's test results).  Default: ``reports/out/allure-results``.
Give one input per kernel to get a report that separates the kernels.

What the build does, in order:

1. copies every input's allure results into one temporary directory and
   enriches each result from its run record: labels ``kernel`` and
   ``parentSuite`` (the kernel), ``epic``/``suite`` (the facility),
   ``story``/``subSuite`` (the claim id) and ``severity``; a name made of the
   claim id and its sentence; an HTML description with the sentence, verdict
   and reason, sources, man page links, Linux/version notes, the erratum
   wording and the observed values; and a ``historyId`` made unique per kernel
   (otherwise Allure folds the same test on two kernels into retries);
2. adds a result for every claim of a record that has no allure result (e.g.
   a record from another host whose results were not kept);
3. runs the Allure 3 CLI pinned in ``reports/html_report/package-lock.json``
   (``npm ci --prefix reports/html_report``) with the "awesome" report in
   single-file mode, grouped kernel > facility > claim (with several kernels: one
   Allure environment per kernel, each grouped by facility and claim);
4. puts the claims-first overview (reports/render_claims.py) at the top of the page;
   ``--claims-only`` writes that overview alone, without Node.js;
5. removes the Google Analytics tag that Allure 3.18 always writes into the
   page (``analyticsEnable: true`` is hard-coded in the awesome plugin), then
   refuses to write the file if any reference to an outside resource remains.

The result opens from disk (file://) with no network; see
``tools/screenshot_report.py`` for the headless Chromium check.
"""

from __future__ import annotations

import configparser
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from reports.records import change_text
from reports.render_claims import inject, overview

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_INPUT = REPO / "reports" / "out" / "allure-results"
DEFAULT_OUTPUT = REPO / "reports" / "out" / "report.html"
ALLURE_BIN = HERE / "node_modules" / ".bin" / "allure"

STATUS_OF_VERDICT = {"holds": "passed", "violated": "failed", "error": "broken",
                     "not_applicable": "skipped"}
VERDICT_TEXT = {"holds": "holds", "violated": "VIOLATED", "error": "ERROR",
                "not_applicable": "not applicable"}

# Anything that would make the browser fetch from outside the file.
EXTERNAL_REF = re.compile(
    r"""(?:\b(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:url\(\s*["']?\s*(?:https?:)?//)|(?:@import\s+["']?(?:https?:)?//)"""
    r"""|googletagmanager|google-analytics""", re.I)
ANALYTICS_BLOCK = re.compile(
    r"""<script\b[^>]*\bsrc=["']https://www\.googletagmanager\.com/[^>]*>\s*</script>\s*"""
    r"""<script>(?:(?!</script>).)*?gtag\((?:(?!</script>).)*</script>""", re.S)


class BuildError(Exception):
    """One-line message for the user."""


# --------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------

def _load_record(path: Path) -> dict:
    from reports.records import RecordError, load_record
    try:
        return load_record(str(path))
    except RecordError as exc:
        raise BuildError(str(exc)) from None


def resolve_input(arg: str | Path) -> tuple[Path | None, dict | None, str]:
    """(results dir or None, record or None, display name) for one INPUT."""
    path = Path(arg)
    if path.is_dir():
        rec_path = path.parent / "record.json"
        record = _load_record(rec_path) if rec_path.is_file() else None
        if not any(path.glob("*-result.json")) and record is None:
            raise BuildError(f"{path}: no allure results (*-result.json) and no record.json "
                             f"beside it; run the suite first")
        return path, record, str(path)
    if path.is_file():
        record = _load_record(path)
        results = path.parent / "allure-results"
        if not (results.is_dir() and any(results.glob("*-result.json"))):
            results = None
        return results, record, str(path)
    raise BuildError(f"{path}: no such file or directory")


def read_environment(results: Path | None) -> dict:
    env: dict[str, str] = {}
    if results is None:
        return env
    props = results / "environment.properties"
    if props.is_file():
        parser = configparser.ConfigParser(interpolation=None, delimiters=("=", ":"))
        parser.optionxform = str  # keep case
        try:
            parser.read_string("[env]\n" + props.read_text(encoding="utf-8", errors="replace"))
            env = dict(parser["env"])
        except configparser.Error:
            pass
    return env


def kernel_label(record: dict | None, env: dict, fallback: str) -> str:
    """'6.18.44-fc-v657 x86_64 (vm)': what tells the kernels apart."""
    host = (record or {}).get("host") or {}
    release = host.get("kernel_release")
    arch, name = host.get("arch"), host.get("hostname")
    if not release:
        for key, value in env.items():
            k = key.lower().replace(".", "_")
            if k.endswith("kernel_release") or k in ("kernel", "uname_r", "release"):
                release = value
            elif k.endswith("arch") and not arch:
                arch = value
            elif k.endswith("hostname") and not name:
                name = value
    if not release:
        return fallback
    return " ".join(x for x in (release, arch) if x) + (f" ({name})" if name else "")


# --------------------------------------------------------------------------
# Enrichment
# --------------------------------------------------------------------------

def man_url(page: str) -> str | None:
    m = re.fullmatch(r"\s*([\w.+:-]+)\((\d)(\w*)\)\s*", page)
    if not m:
        return None
    name, sect, sub = m.groups()
    return f"https://man7.org/linux/man-pages/man{sect}/{name}.{sect}{sub}.html"


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _value(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


def claim_html(claim: dict, kernel: str) -> str:
    """The description shown on a claim's page in the report."""
    verdict = claim.get("verdict", "")
    parts = [f"<p><b>Claim</b> <code>{_e(claim.get('id'))}</code>: {_e(claim.get('claim', ''))}</p>",
             f"<p><b>Verdict on {_e(kernel)}</b>: {_e(VERDICT_TEXT.get(verdict, verdict))}"
             + (f": {_e(claim['reason'])}" if claim.get("reason") else "") + "</p>"]
    erratum = claim.get("erratum")
    if isinstance(erratum, dict) and erratum.get("wording"):
        where = " / ".join(_e(erratum[k]) for k in ("document", "section") if erratum.get(k))
        parts.append(f"<blockquote><b>Erratum</b>: the source says &ldquo;{_e(erratum['wording'])}"
                     f"&rdquo;" + (f" ({where})" if where else "")
                     + "; this does not hold on Linux, the verdict above is about what Linux "
                     "does.</blockquote>")
    sources = [" / ".join(_e(s[k]) for k in ("document", "section") if s.get(k))
               for s in claim.get("sources") or [] if isinstance(s, dict)]
    if sources:
        parts.append("<p><b>Sources</b></p><ul>" + "".join(f"<li>{s}</li>" for s in sources)
                     + "</ul>")
    mans = []
    for page in claim.get("man") or []:
        url = man_url(page)
        mans.append(f"<a href=\"{_e(url)}\" target=\"_blank\" rel=\"noopener\">{_e(page)}</a>"
                    if url else _e(page))
    if mans:
        parts.append("<p><b>Man pages</b>: " + ", ".join(mans) + "</p>")
    if claim.get("linux"):
        parts.append(f"<p><b>Linux</b>: {_e(claim['linux'])}</p>")
    rng = claim.get("kernel")
    if isinstance(rng, dict) and rng:
        parts.append("<p><b>Kernel range</b>: " + ", ".join(f"{_e(k)} {_e(v)}" for k, v in rng.items())
                     + "</p>")
    changes = [c for c in claim.get("changes") or [] if isinstance(c, dict)]
    if changes:
        parts.append("<p><b>Where Linux changes</b></p><ul>" + "".join(
            f"<li>{_e(change_text(c))}</li>" for c in changes) + "</ul>")
    if claim.get("kconfig"):
        parts.append("<p><b>Needs</b>: " + ", ".join(_e(k) for k in claim["kconfig"]) + "</p>")
    observed = claim.get("observed") or {}
    if observed:
        parts.append("<p><b>Observed</b></p><table><tr><th>value</th><th>observed</th></tr>" + "".join(
            f"<tr><td><code>{_e(k)}</code></td><td><code>{_e(_value(v))}</code></td></tr>"
            for k, v in sorted(observed.items())) + "</table>")
    return "\n".join(parts)


def claim_markdown(claim: dict, kernel: str) -> str:
    """Plain fallback of claim_html (Allure shows descriptionHtml when present)."""
    lines = [f"**{claim.get('id')}**: {claim.get('claim', '')}", "",
             f"Verdict on {kernel}: {VERDICT_TEXT.get(claim.get('verdict'), claim.get('verdict'))}"
             + (f": {claim['reason']}" if claim.get("reason") else "")]
    erratum = claim.get("erratum")
    if isinstance(erratum, dict) and erratum.get("wording"):
        lines += ["", f"> Erratum: the source says \u201c{erratum['wording']}\u201d"]
    return "\n".join(lines)


def _set_label(result: dict, name: str, value: Any, replace: bool = True) -> None:
    labels = result.setdefault("labels", [])
    if replace:
        labels[:] = [l for l in labels if l.get("name") != name]
    elif any(l.get("name") == name for l in labels):
        return
    labels.append({"name": name, "value": str(value)})


def _label(result: dict, name: str) -> str | None:
    for l in result.get("labels") or []:
        if l.get("name") == name:
            return l.get("value")
    return None


def _uniq(text: str, kernel_key: str) -> str:
    return hashlib.md5(f"{text}|{kernel_key}".encode()).hexdigest()


def enrich_result(result: dict, claim: dict | None, kernel: str, kernel_key: str,
                  n_tests: int = 1) -> dict:
    """Labels, name and description for one allure result (in place)."""
    _set_label(result, "kernel", kernel)
    _set_label(result, "parentSuite", kernel)
    if claim is not None:
        cid, facility = claim["id"], claim.get("facility") or claim["id"].split(".")[0]
        _set_label(result, "epic", facility)
        _set_label(result, "story", cid)
        _set_label(result, "suite", facility)
        _set_label(result, "subSuite", cid)
        if claim.get("severity"):
            _set_label(result, "severity", claim["severity"])
        _set_label(result, "verdict", claim.get("verdict", ""))
        if claim.get("erratum"):
            _set_label(result, "tag", "erratum", replace=False)
        sentence = claim.get("claim") or ""
        test_name = result.get("name") or ""
        result["name"] = f"{cid} \u2014 {sentence}" if n_tests <= 1 else \
            f"{cid} \u2014 {sentence} [{test_name}]"
        result["description"] = claim_markdown(claim, kernel)
        result["descriptionHtml"] = claim_html(claim, kernel)
        links = result.setdefault("links", [])
        have = {l.get("url") for l in links}
        for page in claim.get("man") or []:
            url = man_url(page)
            if url and url not in have:
                links.append({"type": "link", "name": page, "url": url})
        params = [p for p in result.get("parameters") or [] if p.get("name") != "kernel"]
        params.append({"name": "kernel", "value": kernel})
        result["parameters"] = params
    else:
        facility = _label(result, "epic")
        if facility:
            _set_label(result, "suite", facility)
    for key in ("historyId", "testCaseId"):
        result[key] = _uniq(str(result.get(key) or result.get("fullName") or result.get("name")),
                            kernel_key)
    return result


def synthetic_result(claim: dict, kernel: str, kernel_key: str, outdir: Path,
                     start_ms: int) -> dict:
    """An allure result for a claim that has none (record-only input)."""
    rid = str(uuid.uuid4())
    attachments = []
    if claim.get("observed"):
        src = f"{rid}-observed-attachment.json"
        (outdir / src).write_text(json.dumps(claim["observed"], indent=2, ensure_ascii=False),
                                  encoding="utf-8")
        attachments.append({"name": "observed", "source": src, "type": "application/json"})
    duration = int(float(claim.get("duration_s") or 0) * 1000)
    status = STATUS_OF_VERDICT.get(claim.get("verdict"), "unknown")
    result = {
        "uuid": rid, "name": claim["id"], "fullName": f"record::{claim['id']}",
        "historyId": claim["id"], "testCaseId": claim["id"],
        "status": status, "stage": "finished", "start": start_ms, "stop": start_ms + duration,
        "statusDetails": {"message": claim.get("reason") or ""} if claim.get("reason") else {},
        "attachments": attachments, "parameters": [], "links": [],
        "labels": [{"name": "framework", "value": "ipc-conformance record"}],
    }
    return enrich_result(result, claim, kernel, kernel_key)


def _claim_index(record: dict | None) -> tuple[dict, dict]:
    """(claims by id, claim id by pytest test name e.g. 'test_default[pipe.x]')."""
    by_id, by_test = {}, {}
    for claim in (record or {}).get("claims") or []:
        by_id[claim["id"]] = claim
        for t in claim.get("tests") or []:
            nodeid = t.get("nodeid") if isinstance(t, dict) else None
            if nodeid:
                by_test[nodeid.split("::")[-1]] = claim["id"]
                by_test[nodeid] = claim["id"]
    return by_id, by_test


def find_claim_id(result: dict, by_id: dict, by_test: dict) -> str | None:
    story = _label(result, "story")
    if story in by_id or (story and not by_id):
        return story
    for key in ("name", "fullName"):
        if result.get(key) in by_test:
            return by_test[result[key]]
    text = f"{result.get('name', '')} {json.dumps(result.get('parameters') or [])}"
    for cid in sorted(by_id, key=len, reverse=True):
        if re.search(r"(?<![\w.])" + re.escape(cid) + r"(?![\w.])", text):
            return cid
    return story


def run_labels(inputs: list[tuple[Path | None, dict | None, str]]) -> list[str]:
    """One label per input that tells the kernels apart (two runs of one kernel: '#2 uid N')."""
    labels, seen = [], {}
    for results, record, name in inputs:
        label = kernel_label(record, read_environment(results),
                             fallback=Path(name).parent.name or name)
        if label in seen:
            seen[label] += 1
            uid = ((record or {}).get("host") or {}).get("uid")
            label = f"{label} #{seen[label]}" + (f" uid {uid}" if uid is not None else "")
        else:
            seen[label] = 1
        labels.append(label)
    return labels


def merge_inputs(inputs: list[tuple[Path | None, dict | None, str]], dest: Path) -> list[dict]:
    """Write enriched results of all inputs into dest; return one summary per kernel."""
    kernels = []
    for i, ((results, record, name), label) in enumerate(zip(inputs, run_labels(inputs))):
        env = read_environment(results)
        key = f"k{i}"
        by_id, by_test = _claim_index(record)
        n_tests = {cid: max(1, len(c.get("tests") or [])) for cid, c in by_id.items()}
        covered: set[str] = set()
        count = 0
        if results is not None:
            for src in sorted(results.iterdir()):
                if not src.is_file():
                    continue
                if src.name.endswith("-result.json"):
                    try:
                        result = json.loads(src.read_text(encoding="utf-8"))
                    except (OSError, ValueError):
                        print(f"html_report: {src}: unreadable allure result, skipped",
                              file=sys.stderr)
                        continue
                    # a test may check several claims (one story label each): the report
                    # is about claims, so each of them gets its own copy of the result
                    ids = [v for v in (l.get("value") for l in result.get("labels") or []
                                       if l.get("name") == "story") if v in by_id]
                    ids = list(dict.fromkeys(ids)) or [find_claim_id(result, by_id, by_test)]
                    for n, cid in enumerate(ids):
                        one = json.loads(json.dumps(result)) if len(ids) > 1 else result
                        if n:
                            one["uuid"] = str(uuid.uuid4())
                        claim = by_id.get(cid)
                        if claim is None and cid:
                            _set_label(one, "story", cid)
                        enrich_result(one, claim, label, key if n == 0 else f"{key}|{cid}",
                                      n_tests.get(cid, 1))
                        if cid:
                            covered.add(cid)
                        stem = src.name if n == 0 else f"{one['uuid']}-result.json"
                        (dest / f"{key}-{stem}").write_text(
                            json.dumps(one, ensure_ascii=False), encoding="utf-8")
                        count += 1
                elif src.name == "environment.properties" or src.name == "categories.json":
                    continue
                elif not (dest / src.name).exists():
                    shutil.copyfile(src, dest / src.name)  # attachments, containers
        start = _start_ms(record)
        for cid, claim in sorted(by_id.items()):
            if cid not in covered:
                result = synthetic_result(claim, label, key, dest, start)
                (dest / f"{key}-{result['uuid']}-result.json").write_text(
                    json.dumps(result, ensure_ascii=False), encoding="utf-8")
                count += 1
        kernels.append({"label": label, "key": key, "results": count, "input": name,
                        "env": env, "record": record})
    return kernels


def _start_ms(record: dict | None) -> int:
    from datetime import datetime
    started = ((record or {}).get("run") or {}).get("started")
    try:
        return int(datetime.fromisoformat(started).timestamp() * 1000)
    except (TypeError, ValueError):
        return 0


def environment_properties(kernels: list[dict]) -> str:
    """Allure's 'environment' widget: one line per host fact, values per kernel."""
    rows: dict[str, list[str]] = {}
    for k in kernels:
        host = (k["record"] or {}).get("host") or {}
        facts = {"kernel": k["label"]}
        for key in ("kernel_release", "arch", "distro", "libc", "uid", "hostname", "container"):
            if host.get(key) is not None:
                facts[key] = str(host[key])
        caps = host.get("capabilities")
        if isinstance(caps, dict) and caps.get("missing"):
            facts["capabilities_missing"] = " ".join(caps["missing"])
        if not host:
            facts.update(k["env"])
        for key, value in facts.items():
            rows.setdefault(key, []).append(value)
    out = []
    for key, values in rows.items():
        uniq = list(dict.fromkeys(values))
        out.append(f"{key}={' | '.join(uniq)}".replace("\n", " "))
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------
# Allure
# --------------------------------------------------------------------------

def allure_config(output_dir: Path, kernels: list[dict], name: str) -> str:
    envs = {}  # Allure environment id -> (display name, kernel label to match)
    if len(kernels) > 1:
        for k in kernels:
            # ids: [A-Za-z0-9_-] only, <= 64; names: <= 64 chars, no '/' or '\\'
            env_id = (re.sub(r"[^A-Za-z0-9_-]+", "-", k["label"]).strip("-")[:56] or "kernel")
            env_id = f"{env_id}-{k['key']}"
            env_name = re.sub(r"[/\\\x00-\x1f]+", "-", k["label"]).strip()[:64]
            envs[env_id] = (env_name, k["label"])
    env_js = ",\n".join(
        f"    {json.dumps(env_id)}: {{ name: {json.dumps(env_name)}, matcher: ({{ labels }}) => "
        f"labels.some((l) => l.name === \"kernel\" && l.value === {json.dumps(label)}) }}"
        for env_id, (env_name, label) in envs.items())
    return f"""// generated by python -m reports.html_report; do not edit
export default {{
  name: {json.dumps(name)},
  output: {json.dumps(str(output_dir))},
  {"environments: {" + chr(10) + env_js + chr(10) + "  }," if envs else ""}
  plugins: {{
    awesome: {{
      options: {{
        reportName: {json.dumps(name)},
        singleFile: true,
        theme: "light",
        reportLanguage: "en",
        groupBy: {json.dumps(["epic", "story"] if envs else ["parentSuite", "epic", "story"])},
        defaultSortBy: "name,asc",
      }},
    }},
  }},
}};
"""


NODE_MIN = (20, 19)  # the oldest Node.js that every package in package-lock.json accepts


def node_version() -> tuple[int, ...] | None:
    node = shutil.which("node") or shutil.which("nodejs")
    if not node:
        return None
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.match(r"v?(\d+)\.(\d+)", out.stdout.strip())
    return (int(m.group(1)), int(m.group(2))) if m else None


def find_allure() -> list[str]:
    override = os.environ.get("ALLURE_CLI")
    if override:
        return override.split()
    need = f"Node.js >= {NODE_MIN[0]}.{NODE_MIN[1]}"
    found = node_version()
    if found is None:
        raise BuildError(f"Node.js not found: the report needs {need} and npm "
                         f"(then `npm ci --prefix reports/html_report`; --claims-only needs "
                         f"neither)")
    if found < NODE_MIN:
        raise BuildError(f"Node.js {found[0]}.{found[1]} is too old: Allure 3 needs {need} "
                         f"(Debian 12's nodejs is 18; Debian 13 has 20.19; --claims-only "
                         f"needs no Node.js)")
    if ALLURE_BIN.exists():
        return [str(ALLURE_BIN)]
    raise BuildError(
        "Allure 3 CLI not installed: run `npm ci --prefix reports/html_report` "
        f"(needs {need} and npm; the version is pinned in "
        "reports/html_report/package-lock.json)")


def allure_unavailable() -> str | None:
    """Why the report cannot be built here, or None (used by the self-tests to skip)."""
    try:
        find_allure()
    except BuildError as exc:
        return str(exc)
    return None


def make_offline(page: str) -> str:
    """Remove the analytics tag; fail if any outside reference remains."""
    page = ANALYTICS_BLOCK.sub("", page)
    m = EXTERNAL_REF.search(page)
    if m:
        ctx = page[max(0, m.start() - 60): m.end() + 60].replace("\n", " ")
        raise BuildError(f"the generated report still references an outside resource: ...{ctx}...")
    return page


def resolve_inputs(inputs: list[str | Path]) -> list[tuple[Path | None, dict | None, str]]:
    """Every INPUT resolved, the same results or record given twice kept once."""
    resolved, seen = [], set()
    for arg in inputs or [DEFAULT_INPUT]:
        results, record, display = resolve_input(arg)
        key = (str(results.resolve()) if results else None,
               json.dumps((record or {}).get("run"), sort_keys=True) if record else None)
        if key in seen:
            continue
        seen.add(key)
        resolved.append((results, record, display))
    return resolved


def build_claims_only(inputs: list[str | Path], output: str | Path = DEFAULT_OUTPUT,
                      name: str = "ipc-conformance") -> dict:
    """The claims overview alone, without the Allure drill-down: no Node.js needed."""
    resolved = resolve_inputs(inputs)
    runs = [{"label": label, "record": record or {"claims": []}}
            for (_, record, _), label in zip(resolved, run_labels(resolved))]
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width\"><title>{_e(name)}</title>"
            f"</head><body style=\"margin:0\">\n{overview(runs, drill_down=False)}\n</body></html>\n")
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(make_offline(page), encoding="utf-8")
    return {"output": str(output), "kernels": [r["label"] for r in runs],
            "results": sum(len(r["record"].get("claims") or []) for r in runs)}


def build(inputs: list[str | Path], output: str | Path = DEFAULT_OUTPUT,
          name: str = "ipc-conformance", keep: str | Path | None = None) -> dict:
    """Build the report; returns {output, kernels: [label, ...], results: n}."""
    resolved = resolve_inputs(inputs)
    allure = find_allure()
    output = Path(output)
    with tempfile.TemporaryDirectory(prefix="ipc-report-") as tmp:
        tmpdir = Path(tmp)
        merged = tmpdir / "allure-results"
        merged.mkdir()
        kernels = merge_inputs(resolved, merged)
        (merged / "environment.properties").write_text(environment_properties(kernels),
                                                       encoding="utf-8")
        outdir = tmpdir / "allure-report"
        config = tmpdir / "allurerc.mjs"
        config.write_text(allure_config(outdir, kernels, name), encoding="utf-8")
        env = dict(os.environ, ALLURE_NO_ANALYTICS="true", NO_COLOR="1", FORCE_COLOR="0",
                   CI="1")
        cmd = allure + ["generate", "--config", str(config), "--cwd", str(tmpdir), str(merged)]
        try:
            proc = subprocess.run(cmd, cwd=tmpdir, env=env, capture_output=True, text=True,
                                  timeout=600)
        except FileNotFoundError as exc:
            raise BuildError(f"cannot run the Allure CLI ({exc}); is Node.js installed?") from None
        except subprocess.TimeoutExpired:
            raise BuildError("allure generate did not finish in 600 s") from None
        index = outdir / "index.html"
        if proc.returncode != 0 or not index.is_file():
            lines = (proc.stderr + "\n" + proc.stdout).strip().splitlines()
            errs = [l.strip() for l in lines if "Error" in l and not l.strip().startswith("at ")]
            raise BuildError(f"allure generate failed (exit {proc.returncode}): "
                             + (errs[0] if errs else " | ".join(lines[-3:])))
        runs = [{"label": k["label"], "record": k["record"] or {"claims": []}} for k in kernels]
        page = make_offline(inject(index.read_text(encoding="utf-8"), overview(runs)))
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(page, encoding="utf-8")
        if keep:
            shutil.copytree(merged, Path(keep), dirs_exist_ok=True)
    return {"output": str(output), "kernels": [k["label"] for k in kernels],
            "results": sum(k["results"] for k in kernels)}


def main(argv: list[str] | None = None) -> int:
    import argparse
    p = argparse.ArgumentParser(
        prog="python -m reports.html_report",
        description="Turn allure results and run records into one offline HTML report.")
    p.add_argument("inputs", nargs="*", metavar="INPUT",
                   help="allure results dir (record.json beside it is used) or record.json "
                        f"(default: {DEFAULT_INPUT.relative_to(REPO)}); one per kernel")
    p.add_argument("-o", "--output", default=str(DEFAULT_OUTPUT),
                   help=f"the HTML file to write (default: {DEFAULT_OUTPUT.relative_to(REPO)})")
    p.add_argument("--name", default="ipc-conformance", help="report title")
    p.add_argument("--keep-results", metavar="DIR",
                   help="also copy the enriched, merged allure results to DIR (for debugging)")
    p.add_argument("--claims-only", action="store_true",
                   help="only the claims overview, without the Allure drill-down (no Node.js "
                        "needed; the inputs' records are read)")
    args = p.parse_args(argv)
    if not args.claims_only:
        print(f"html_report: {len(args.inputs) or 1} input(s): enriching the results from the "
              f"records, then allure generate (about 10 s) ...", file=sys.stderr)
    try:
        info = (build_claims_only(args.inputs, args.output, args.name) if args.claims_only
                else build(args.inputs, args.output, args.name, args.keep_results))
    except BuildError as exc:
        print(f"html_report: {exc}", file=sys.stderr)
        return 2
    print(f"html_report: wrote {info['output']} ({info['results']} "
          f"{'claims' if args.claims_only else 'results'}; kernels: "
          f"{'; '.join(info['kernels'])})")
    return 0
