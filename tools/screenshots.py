"""Full-page screenshots of every page of the built book, with headless Chromium (``make screenshots``).

Usage: ``python tools/screenshots.py [_build/html] [_build/screenshots]``.  Needs Debian's ``chromium`` package
(``apt-get update && apt-get install -y chromium``); ``CHROMIUM`` in the environment overrides the binary.

Chromium's ``--screenshot`` flag captures only the window; this script drives the browser over the DevTools
protocol on a pipe (``--remote-debugging-pipe``: no network port, no extra package), waits until MathJax has
typeset the page, sizes the viewport to the page's full height and captures it (width 1280 CSS pixels).
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WIDTH = 1280
#: Tallest capture (CSS pixels); longer pages are cut there (Chromium's own texture limit is about 16k-32k).
MAX_HEIGHT = 30000
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         "--remote-debugging-pipe"]


class _Browser:
    """A headless Chromium speaking the DevTools protocol over fds 3 (commands in) and 4 (replies out)."""

    def __init__(self, binary: str) -> None:
        self._profile = tempfile.mkdtemp(prefix="symnb-chromium-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def wire() -> None:  # in the child: the protocol's fixed descriptors
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        self._proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={self._profile}", "about:blank"],
                                      preexec_fn=wire, pass_fds=(3, 4),  # kept after wire() ran
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def _read_message(self) -> dict:
        while b"\0" not in self._buffer:
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read_message()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str, session: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, ev in enumerate(self.events):
                if ev.get("method") == method and ev.get("sessionId") == session:
                    del self.events[i]
                    return
            self.events.append(self._read_message())
        raise TimeoutError(f"no {method} within {timeout} s")

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except RuntimeError:
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
        shutil.rmtree(self._profile, ignore_errors=True)


def _open_typeset(browser: _Browser, url: str, width: int = WIDTH) -> tuple[str, str]:
    """Open ``url`` in a new tab at ``width`` CSS pixels and wait until MathJax has typeset it.

    Returns:
        (target id, session id) of the tab.
    """
    target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    browser.call("Page.enable", session=session)
    browser.call("Emulation.setDeviceMetricsOverride",
                 {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session)
    browser.call("Page.navigate", {"url": url}, session)
    browser.wait_event("Page.loadEventFired", session)
    # MathJax typesets asynchronously after load: wait for it (pages without MathJax resolve at once)
    browser.call("Runtime.evaluate", {"expression": "(window.MathJax && MathJax.startup && MathJax.startup.promise)"
                                                    " ? MathJax.startup.promise.then(() => true) : true",
                                      "awaitPromise": True, "timeout": 20000}, session)
    return target, session


def evaluate_after_typeset(browser: _Browser, url: str, expression: str, width: int = WIDTH):
    """The value of the JavaScript ``expression`` in page ``url`` laid out at ``width`` px after MathJax
    (tools/html_check.py measures the layout with it)."""
    target, session = _open_typeset(browser, url, width)
    try:
        result = browser.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
    finally:
        browser.call("Target.closeTarget", {"targetId": target})
    if "exceptionDetails" in result:
        raise RuntimeError(f"{url}: {result['exceptionDetails']}")
    return result["result"]["value"]


def _capture(browser: _Browser, url: str, out: Path) -> tuple[int, bool]:
    target, session = _open_typeset(browser, url)
    height = int(browser.call("Page.getLayoutMetrics", session=session)["cssContentSize"]["height"])
    clipped = height > MAX_HEIGHT
    browser.call("Emulation.setDeviceMetricsOverride",
                 {"width": WIDTH, "height": min(height, MAX_HEIGHT), "deviceScaleFactor": 1, "mobile": False}, session)
    # the viewport already spans the page; captureBeyondViewport would shift wide pages sideways
    shot = browser.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False}, session)
    out.write_bytes(base64.b64decode(shot["data"]))
    browser.call("Target.closeTarget", {"targetId": target})
    return height, clipped


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else "_build/html").resolve()
    dest = Path(argv[2] if len(argv) > 2 else "_build/screenshots")
    binary = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not binary:
        print("chromium not found: apt-get update && apt-get install -y chromium", file=sys.stderr)
        return 2
    pages = sorted(p for p in root.rglob("*.html") if "_static" not in p.parts and "_sources" not in p.parts
                   and p.name not in ("genindex.html", "search.html", "index.html"))
    if not pages:
        print(f"no pages under {root}: run make book first", file=sys.stderr)
        return 2
    dest.mkdir(parents=True, exist_ok=True)
    browser = _Browser(binary)
    try:
        for page in pages:
            out = dest / (page.relative_to(root).with_suffix("").as_posix().replace("/", "_") + ".png")
            height, clipped = _capture(browser, page.as_uri(), out)
            print(f"{out}  ({WIDTH} x {min(height, MAX_HEIGHT)} px{', cut at MAX_HEIGHT' if clipped else ''})")
    finally:
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
