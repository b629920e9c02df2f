"""A small headless-Chromium driver over the DevTools pipe, to check ``episodes.html`` in a real browser.

The page is only useful if it works where it is read, so its test and benchmark open it in Chromium rather
than parsing the HTML: load it, run expressions in it (click a filter, count cards), collect console
errors, uncaught exceptions and failed image loads, take a screenshot. The DevTools protocol over
``--remote-debugging-pipe`` (JSON messages separated by NUL bytes on file descriptors 3 and 4) needs no
extra package and no network port.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """Path of a Chromium binary ($CHROMIUM, else the usual names on PATH), or None."""
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


class Chromium:
    """One headless browser with one page. Use as a context manager."""

    def __init__(self, binary: str | None = None, width: int = 1400, height: int = 1000, timeout: float = 60.0):
        self.binary = binary or find_chromium()
        if not self.binary:
            raise FileNotFoundError("no Chromium found: install Debian's `chromium` package or set $CHROMIUM")
        self.width, self.height, self.timeout = width, height, timeout
        self.errors: list[str] = []  # console errors, exceptions, failed loads, in order
        self._next_id = 0
        self._buffer = b""
        self._events: list[dict] = []

    def __enter__(self) -> Chromium:
        self._profile = tempfile.mkdtemp(prefix="chromium-profile-")
        to_browser_read, to_browser_write = os.pipe()
        from_browser_read, from_browser_write = os.pipe()
        # Chromium reads commands on fd 3 and writes replies on fd 4. Move the child's ends above 10 first, so
        # the redirections to 3 and 4 in the launching shell cannot overwrite one with the other.
        child_read = fcntl.fcntl(to_browser_read, fcntl.F_DUPFD, 10)
        child_write = fcntl.fcntl(from_browser_write, fcntl.F_DUPFD, 10)
        for descriptor in (to_browser_read, from_browser_write):
            os.close(descriptor)
        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-default-browser-check",
            "--allow-file-access-from-files",
            f"--user-data-dir={self._profile}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        script = f'exec "$0" "$@" 3<&{child_read} 4>&{child_write} {child_read}<&- {child_write}>&-'
        self._process = subprocess.Popen(
            ["bash", "-c", script, self.binary, *flags],  # bash: dash redirects only fds 0-9
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(child_read, child_write),
        )
        os.close(child_read)
        os.close(child_write)
        self._write, self._read = to_browser_write, from_browser_read
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False},
        )
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._call("Browser.close")
        except (OSError, RuntimeError, TimeoutError):
            pass
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._write)
        os.close(self._read)
        shutil.rmtree(self._profile, ignore_errors=True)

    # ---- protocol ------------------------------------------------------------------------------------------

    def _send(self, method: str, params: dict | None, session: str | None) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        return self._next_id

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message = json.loads(raw)
        if "method" in message:
            self._record(message)
        return message

    def _record(self, event: dict) -> None:
        self._events.append(event)
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.errors.append(
                "console: " + " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
            )
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.errors.append(
                "exception: " + details.get("exception", {}).get("description", details.get("text", ""))
            )
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            self.errors.append(f"log: {entry.get('text')} {entry.get('url', '')}".strip())

    def _call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        wanted = self._send(method, params, session)
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._receive(deadline)
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def call(self, method: str, params: dict | None = None) -> dict:
        """A DevTools command on the page."""
        return self._call(method, params, self._session)

    def _wait_event(self, method: str) -> dict:
        deadline = time.monotonic() + self.timeout
        seen = len(self._events)
        while True:
            for event in self._events[seen:]:
                if event["method"] == method:
                    return event
            seen = len(self._events)
            self._receive(deadline)

    # ---- page ----------------------------------------------------------------------------------------------

    def open(self, path: str | Path, query: str = "") -> float:
        """Load a file (with ``?query`` when given) and wait for its load event; return the seconds it took."""
        start = time.perf_counter()
        self._events.clear()
        self.call("Page.navigate", {"url": Path(path).resolve().as_uri() + (f"?{query}" if query else "")})
        self._wait_event("Page.loadEventFired")
        return time.perf_counter() - start

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (awaited when it is a promise)."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise RuntimeError(f"{expression!r} raised {details.get('exception', {}).get('description', details)}")
        return result["result"].get("value")

    def settle(self, seconds: float = 0.3) -> None:
        """Give pending loads (lazy images) and their events time to arrive."""
        self.evaluate(f"new Promise((done) => setTimeout(done, {int(seconds * 1000)}))")

    def screenshot(self, path: str | Path, full_page: bool = False) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", params)["data"]
        Path(path).write_bytes(base64.b64decode(data))
        return Path(path)
