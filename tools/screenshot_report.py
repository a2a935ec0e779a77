"""Open the offline HTML report in headless Chromium and check it.

    python tools/screenshot_report.py reports/out/report.html [--record reports/out/record.json ...]
                                      [--screenshot report.png] [--claim pipe.capacity.default]

Drives Debian's ``chromium`` over the DevTools protocol on a pipe
(``--remote-debugging-pipe``; standard library only, no websocket client),
with a fresh profile and no background networking.  It

* records every request the page makes (Network domain of the page's own
  target, so Chromium's own background traffic is not counted) and fails if
  one goes anywhere but file:, data: or blob: -- i.e. the report works offline;
* checks the claims-first overview on the first screen (reports/render_claims.py):
  verdict counts per run, the matrix with each claim once, every claim once in the list
  with its test cases, a click on a cell showing its reason, no "None:" text; and takes a
  screenshot of the first screen as a person sees it on opening the file;
* expands the whole test tree and checks that every claim id it is given
  (from --claim and/or the claims of --record files) shows up, once per kernel;
* optionally opens one claim (--open-claim) and checks that its page shows the
  claim sentence (and the erratum wording, if any);
* writes PNG screenshots of the tree and of the opened claim.

Exit status 0 when every check passes, 1 when one fails, 2 when Chromium is
missing or does not start.  Used by tests/test_html_report.py.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
    "--remote-debugging-pipe",
]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:", "chrome:", "devtools:")

EXPAND_TREE_JS = r"""
(async () => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  await sleep(500);
  let clean = 0;
  for (let round = 0; round < 40 && clean < 3; round++) {
    const closed = [...document.querySelectorAll('[data-testid="tree-section"]')]
      .filter((s) => {  // a section is a header row; its open content is the next sibling
        // (environment headings, one per kernel, sit in another container: leave them)
        if (!/(^|\s)styles_tree__/.test(s.parentElement.className || '')) return false;
        const next = s.nextElementSibling;
        return !(next && next.getAttribute('data-testid') === 'tree-content');
      });
    if (!closed.length) { clean++; await sleep(250); continue; }
    clean = 0;
    for (const s of closed) {
      const arrow = s.querySelector(':scope > [data-testid="tree-arrow"]') ||
                    s.querySelector('[data-testid="tree-section-title"]');
      if (arrow) arrow.click();
    }
    await sleep(150);
  }
  return [...document.querySelectorAll('[data-testid="tree-leaf-title"]')].map((e) => e.textContent);
})()
"""

SCROLL_TO_TREE_JS = r"""
(async () => {
  // the first kernel's heading (several kernels) or the first tree row, just below the filters
  const env = [...document.querySelectorAll('div, span, h2, h3')]
    .find((e) => e.children.length === 0 && /^Environment: "/.test(e.textContent || ''));
  const target = env || document.querySelector('[data-testid="tree-section"]');
  if (target) target.scrollIntoView({ block: 'center' });
  await new Promise((r) => setTimeout(r, 300));
  return !!target;
})()
"""

OPEN_CLAIM_JS = r"""
(async (cid) => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const leaf = [...document.querySelectorAll('[data-testid="tree-leaf"]')]
    .find((e) => (e.textContent || '').includes(cid + ' \u2014'));
  if (!leaf) return null;
  leaf.scrollIntoView();
  leaf.click();
  // Allure shows the description in a sandboxed same-origin iframe (no scripts)
  const frameText = () => [...document.querySelectorAll('iframe')].map((f) => {
    try { return f.contentDocument.body.innerText; } catch (e) { return ''; }
  }).join('\n');
  for (let i = 0; i < 60; i++) {
    await sleep(150);
    if (frameText().includes('Verdict on')) break;
  }
  // bring the description (sentence, verdict, erratum, sources) into view
  const frame = [...document.querySelectorAll('iframe')][0];
  if (frame) frame.scrollIntoView({ block: 'start' });
  await sleep(300);
  return document.body.innerText + '\n' + frameText();
})
"""


OVERVIEW_JS = r"""
(async () => {
  const root = document.getElementById('ipcc-claims');
  if (!root) return null;
  const rows = [...root.querySelectorAll('#ipcc-matrix tr[data-claim-row]')]
    .map((r) => r.getAttribute('data-claim-row'));
  const details = [...root.querySelectorAll('details.claim')].map((d) => d.id.slice(6));
  const cell = root.querySelector('td.cell.differs') || root.querySelector('td.cell');
  let clicked = null;
  if (cell) {
    cell.click();
    await new Promise((r) => setTimeout(r, 100));
    clicked = {info: document.getElementById('ipcc-cell-info').textContent,
               title: cell.getAttribute('title'),
               opened: (document.getElementById('claim-' + cell.getAttribute('data-claim')) || {}).open};
    document.getElementById('ipcc-cell-info').textContent = 'Click a verdict to read its reason here.';
    if (clicked.opened) document.getElementById('claim-' + cell.getAttribute('data-claim')).open = false;
    window.scrollTo(0, 0);
  }
  const inView = (el) => el && el.getBoundingClientRect().top < window.innerHeight;
  return {
    runs: [...root.querySelectorAll('.runline')].map((r) => r.innerText.replace(/\s+/g, ' ').trim()),
    matrix_rows: rows, claims_listed: details,
    differing: [...root.querySelectorAll('#ipcc-differences tr[data-claim-row]')]
      .map((r) => r.getAttribute('data-claim-row')),
    tests_listed: root.querySelectorAll('details.claim tr.test').length,
    clicked,
    first_screen: {counts: inView(root.querySelector('.tiles')),
                   table: inView(root.querySelector('#ipcc-differences, #ipcc-matrix'))},
    none_text: (root.innerText.match(/None: .{0,60}/g) || []),
    text: root.innerText.slice(0, 200000),
  };
})()
"""


class ChromiumError(Exception):
    pass


class Chromium:
    """Minimal DevTools-protocol client over --remote-debugging-pipe."""

    def __init__(self, binary: str | None = None, width: int = 1400, height: int = 1000):
        self.binary = binary or shutil.which("chromium") or shutil.which("chromium-browser") \
            or shutil.which("google-chrome")
        if not self.binary:
            raise ChromiumError("chromium not found (Debian: apt-get install -y chromium)")
        self.profile = tempfile.mkdtemp(prefix="ipc-report-chromium-")
        to_chrome_r, self._w = os.pipe()   # chrome reads fd 3
        self._r, from_chrome_w = os.pipe()  # chrome writes fd 4
        args = [*CHROMIUM_FLAGS, f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}", "about:blank"]
        # The DevTools pipe is fds 3 (chrome reads) and 4 (chrome writes).  A tiny Python
        # trampoline moves them there and execs chromium, so no preexec_fn is needed
        # (pytest-xdist workers have threads); the ends are first moved above fd 9 so
        # that neither dup2 clobbers the other's source.
        import fcntl
        hi_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD_CLOEXEC, 10)
        hi_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        trampoline = ("import os, sys; r, w = int(sys.argv[1]), int(sys.argv[2]); "
                      "os.dup2(r, 3); os.dup2(w, 4); os.close(r); os.close(w); "
                      "os.execv(sys.argv[3], sys.argv[3:])")
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", trampoline, str(hi_r), str(hi_w), self.binary, *args],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(hi_r, hi_w))
        finally:
            os.close(hi_r)
            os.close(hi_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []
        self.session: str | None = None

    # -- protocol --------------------------------------------------------
    def _send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        return self._id

    def _read_one(self, deadline: float) -> dict:
        import select
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ChromiumError("timed out waiting for Chromium")
            ready, _, _ = select.select([self._r], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise ChromiumError("Chromium closed the DevTools pipe (did it start?)")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, timeout: float = 60,
             session: str | None = "page") -> dict:
        sid = self.session if session == "page" else session
        mid = self._send(method, params, sid)
        deadline = time.monotonic() + timeout
        while True:
            msg = self._read_one(deadline)
            if msg.get("id") == mid:
                if "error" in msg:
                    raise ChromiumError(f"{method}: {msg['error'].get('message')}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, method: str, timeout: float = 60) -> dict:
        for i, ev in enumerate(self.events):
            if ev.get("method") == method:
                return self.events.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            msg = self._read_one(deadline)
            if msg.get("method") == method:
                return msg
            if "method" in msg:
                self.events.append(msg)

    # -- page ------------------------------------------------------------
    def open(self, url: str, timeout: float = 60) -> None:
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=None)
        att = self.call("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True},
                        session=None)
        self.session = att["sessionId"]
        self.requests: list[str] = []
        self.call("Network.enable")
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired", timeout)

    def evaluate(self, expression: str, timeout: float = 60):
        res = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                             "returnByValue": True}, timeout=timeout)
        if "exceptionDetails" in res:
            det = res["exceptionDetails"]
            raise ChromiumError(f"page script failed: {det.get('text')} "
                                f"{(det.get('exception') or {}).get('description', '')[:300]}")
        return res.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 30) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return True
            time.sleep(0.2)
        return False

    def screenshot(self, path: str | Path, full_page: bool = False) -> None:
        params: dict = {"format": "png"}
        if full_page:
            m = self.call("Page.getLayoutMetrics")
            size = m.get("cssContentSize") or m.get("contentSize")
            params.update(captureBeyondViewport=True, clip={
                "x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 6000),
                "scale": 1})
        data = self.call("Page.captureScreenshot", params)["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def requested_urls(self) -> list[str]:
        # drain pending events first
        try:
            self.call("Runtime.evaluate", {"expression": "1"})
        except ChromiumError:
            pass
        return [ev["params"]["request"]["url"] for ev in self.events
                if ev.get("method") == "Network.requestWillBeSent"
                and ev.get("sessionId") == self.session]

    def close(self) -> None:
        try:
            self._send("Browser.close")
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._r, self._w):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)


def claim_counts_of(record_paths: list[str]) -> dict[str, int]:
    """claim id -> in how many of the records it appears (= tree leaves expected,
    one per kernel, when each claim has one test)."""
    counts: dict[str, int] = {}
    for p in record_paths:
        with open(p, encoding="utf-8") as fh:
            for c in json.load(fh).get("claims", []):
                counts[c["id"]] = counts.get(c["id"], 0) + 1
    return counts


def auto_claim(record_paths: list[str]) -> str | None:
    """A claim worth opening: the first erratum (its page shows the most), else the first."""
    if not record_paths:
        return None
    with open(record_paths[0], encoding="utf-8") as fh:
        claims = json.load(fh).get("claims", [])
    for c in claims:
        if c.get("erratum"):
            return c["id"]
    return claims[0]["id"] if claims else None


def check_overview(browser: Chromium, claims: dict[str, int],
                   first_screen: str | Path | None = None) -> dict:
    """The claims-first overview: each claim once in the matrix and in the list, a
    clicked cell shows its reason, counts and the table on the first screen."""
    ov = browser.evaluate(OVERVIEW_JS)
    if ov is None:
        return {"overview": False, "overview_problems": ["no #ipcc-claims section"]}
    problems = []
    for what in ("matrix_rows", "claims_listed"):
        seen = ov[what]
        dup = sorted({c for c in seen if seen.count(c) > 1})
        if dup:
            problems.append(f"{what}: listed more than once: {dup}")
        missing = sorted(set(claims) - set(seen))
        if what == "claims_listed" and missing:
            problems.append(f"{what}: missing {missing}")
    if ov["none_text"]:
        problems.append(f"'None:' rendered: {ov['none_text'][:3]}")
    clicked = ov.get("clicked")
    if not clicked or not clicked["info"] or clicked["info"] != clicked["title"]:
        problems.append(f"clicking a cell did not show its reason: {clicked}")
    if not all(ov["first_screen"].values()):
        problems.append(f"not on the first screen: {ov['first_screen']}")
    if first_screen:
        browser.screenshot(first_screen)
    return {"overview": True, "overview_problems": problems, "overview_runs": ov["runs"],
            "overview_differing": ov["differing"], "overview_rows": len(ov["matrix_rows"]),
            "overview_claims": len(ov["claims_listed"]), "overview_tests": ov["tests_listed"],
            "overview_click": clicked, "overview_text": ov["text"],
            "first_screen": str(first_screen) if first_screen else None}


def check_report(html_path: str | Path, claims: dict[str, int] | list[str],
                 screenshot: str | Path | None = None, open_claim: str | None = None,
                 claim_screenshot: str | Path | None = None, expect_text: list[str] = (),
                 timeout: float = 60, first_screen: str | Path | None = None) -> dict:
    """Run every check; return a dict with 'ok' and the details."""
    url = Path(html_path).resolve().as_uri()
    browser = Chromium()
    out: dict = {"url": url}
    if not isinstance(claims, dict):
        claims = {cid: 1 for cid in claims}
    try:
        browser.open(url, timeout)
        browser.wait_for("document.getElementById('ipcc-claims') !== null", 10)
        out.update(check_overview(browser, claims, first_screen))
        # a --claims-only report has no Allure app: the overview is all there is to check
        out["allure"] = bool(browser.evaluate("document.getElementById('app') !== null"))
        if not out["allure"]:
            out.update(tree_rendered=None, leaves=0, missing_claims=[],
                       claims_short_of_kernels=[], missing_text=[])
            urls = browser.requested_urls()
            out["requests"] = len(urls)
            out["external_requests"] = sorted({u for u in urls if not u.startswith(LOCAL_SCHEMES)})
            out["ok"] = bool(out.get("overview") and not out["overview_problems"]
                             and not out["external_requests"])
            return out
        rendered = browser.wait_for(
            "document.querySelectorAll('[data-testid=\"tree-section\"],"
            "[data-testid=\"tree-leaf\"]').length > 0", timeout)
        out["tree_rendered"] = rendered
        leaves = browser.evaluate(EXPAND_TREE_JS, timeout) or []
        out["leaves"] = len(leaves)
        counts = {cid: sum(1 for t in leaves if t.startswith(cid + " \u2014")) for cid in claims}
        out["missing_claims"] = [cid for cid, n in counts.items() if n == 0]
        # a claim recorded on k kernels must show k times (once per kernel)
        out["claims_short_of_kernels"] = [f"{cid}: {counts[cid]} of {n}" for cid, n in
                                          claims.items() if 0 < counts[cid] < n]
        text = browser.evaluate("document.body.innerText") or ""
        out["missing_text"] = [t for t in expect_text if t not in text]
        if screenshot:
            browser.evaluate(SCROLL_TO_TREE_JS)
            browser.screenshot(screenshot)
            out["screenshot"] = str(screenshot)
        if open_claim:
            page_text = browser.evaluate(f"({OPEN_CLAIM_JS})({json.dumps(open_claim)})", timeout)
            out["claim_page_opened"] = page_text is not None
            out["claim_page_text"] = (page_text or "")[:50000]
            if claim_screenshot:
                time.sleep(0.5)
                browser.screenshot(claim_screenshot)
                out["claim_screenshot"] = str(claim_screenshot)
        urls = browser.requested_urls()
        out["requests"] = len(urls)
        out["external_requests"] = sorted({u for u in urls if not u.startswith(LOCAL_SCHEMES)})
    finally:
        browser.close()
    out["ok"] = bool(out.get("tree_rendered") and not out["missing_claims"]
                     and out.get("overview") and not out["overview_problems"]
                     and not out["claims_short_of_kernels"]
                     and not out["external_requests"] and not out["missing_text"]
                     and (open_claim is None or out.get("claim_page_opened")))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("report", help="the HTML file from python -m reports.html_report")
    p.add_argument("--record", action="append", default=[],
                   help="run record whose claims must all render (repeat, one per kernel)")
    p.add_argument("--claim", action="append", default=[], help="a claim id that must render")
    p.add_argument("--expect-text", action="append", default=[],
                   help="text that must appear on the report's first page")
    p.add_argument("--screenshot", help="PNG of the expanded tree")
    p.add_argument("--open-claim", help="claim id to open; 'auto': the first erratum of the "
                   "first --record (else its first claim)")
    p.add_argument("--claim-screenshot", help="PNG of the opened claim")
    p.add_argument("--first-screen", help="PNG of the first screen (the claims overview)")
    p.add_argument("--timeout", type=float, default=60)
    args = p.parse_args(argv)
    claims = claim_counts_of(args.record)
    if args.open_claim == "auto":
        args.open_claim = auto_claim(args.record)
    for cid in args.claim:
        claims.setdefault(cid, 1)
    try:
        out = check_report(args.report, claims, args.screenshot, args.open_claim,
                           args.claim_screenshot, args.expect_text, args.timeout,
                           args.first_screen)
    except ChromiumError as exc:
        print(f"screenshot_report: {exc}", file=sys.stderr)
        return 2
    out.pop("claim_page_text", None)
    out.pop("overview_text", None)
    print(json.dumps(out, indent=2))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
