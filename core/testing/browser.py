"""A headless Chromium driven over the DevTools protocol on a pipe: open a page, evaluate, screenshot.

Used by the tests of ``report.html`` (no console errors, figures load,
filters work) and by ``make report-screenshot``. It needs only the
``chromium`` binary (Debian's package) and the standard library:
``--remote-debugging-pipe`` speaks NUL-separated JSON on file descriptors
3 (commands) and 4 (replies and events), so no websocket client is needed.

Examples:
    Not run here (needs Chromium)::

        with Browser() as browser:
            page = browser.open("file:///tmp/report.html")
            page.evaluate("document.title")
            page.screenshot("/tmp/report.png")
            assert not page.console_errors

Command line: ``python -m etude.testing.browser screenshot PAGE.html OUT.png [--width 1280] [--height 900]``.
"""

from __future__ import annotations

import base64
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


class BrowserError(RuntimeError):
    """Chromium is missing, did not start, or a DevTools command failed."""


def find_chromium() -> str | None:
    """The path of a Chromium (or Chrome) binary: ``$ETUDE_CHROMIUM`` or the first on PATH, else None."""
    explicit = os.environ.get("ETUDE_CHROMIUM")
    if explicit:
        return explicit if shutil.which(explicit) else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _high(fd: int) -> int:
    """``fd`` moved to a number >= 10, so that the shell's ``3<&N`` never closes what it just opened."""
    import fcntl  # noqa: PLC0415

    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


class Page:
    """One tab: evaluate JavaScript, wait for the load, collect console errors, take a screenshot."""

    def __init__(self, browser: Browser, session: str) -> None:
        self.browser, self.session = browser, session
        self.console_errors: list[str] = []
        self.loaded = False

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        return self.browser.send(method, params, session=self.session)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (awaited when it is a promise); JS exceptions raise."""
        reply = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in reply:
            details = reply["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"JavaScript error evaluating {expression[:80]!r}: {text}")
        return reply.get("result", {}).get("value")

    def wait_for_load(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.loaded:
            if time.monotonic() > deadline:
                raise BrowserError(f"the page did not finish loading within {timeout} s")
            self.browser.pump(deadline - time.monotonic())

    def screenshot(self, path: str | os.PathLike, *, full_page: bool = False) -> pathlib.Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            metrics = self.send("Page.getLayoutMetrics")
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1})
        data = self.send("Page.captureScreenshot", **params)["data"]
        path = pathlib.Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def _event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Page.loadEventFired":
            self.loaded = True
        elif method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            self.console_errors.append(f"console.{params['type']}: {args}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.console_errors.append("uncaught: " + str(details.get("exception", {}).get("description")
                                                         or details.get("text")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            self.console_errors.append(f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}".strip())


class Browser:
    """A headless Chromium process; use as a context manager."""

    def __init__(self, binary: str | None = None, *, width: int = 1280, height: int = 900,
                 extra_args: Sequence[str] = ()) -> None:
        self.binary = binary or find_chromium()
        if not self.binary:
            raise BrowserError("no Chromium found: install Debian's package (apt-get install -y chromium) "
                               "or set ETUDE_CHROMIUM to a Chrome/Chromium binary")
        self.width, self.height, self.extra_args = width, height, list(extra_args)
        self._id = 0
        self._buffer = b""
        self._replies: dict[int, dict[str, Any]] = {}
        self._pages: dict[str, Page] = {}

    def __enter__(self) -> Browser:
        self._profile = tempfile.TemporaryDirectory(prefix="etude-chromium-")
        to_child_r, self._to_child = (_high(fd) for fd in os.pipe())
        self._from_child, from_child_w = (_high(fd) for fd in os.pipe())
        # the child reads commands on fd 3 and writes on fd 4
        args = [self.binary, "--headless=new", "--remote-debugging-pipe", "--no-first-run", "--no-default-browser-check",
                "--disable-gpu", "--disable-extensions", "--disable-background-networking", "--disable-sync",
                "--no-sandbox", "--disable-dev-shm-usage", f"--user-data-dir={self._profile.name}",
                f"--window-size={self.width},{self.height}", "--hide-scrollbars", *self.extra_args, "about:blank"]

        def _to_3_and_4() -> None:  # pragma: no cover - runs in the child, between fork and exec
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        # Python's own descriptors are not inheritable (PEP 446): with close_fds=False the
        # child keeps 0-2 and the two pipe ends moved to 3 and 4, nothing else
        self._log = open(pathlib.Path(self._profile.name) / "chromium-stderr.log", "wb")  # noqa: SIM115
        self._process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=self._log, close_fds=False, preexec_fn=_to_3_and_4)
        os.close(to_child_r)
        os.close(from_child_w)
        try:
            self.send("Browser.getVersion", timeout=60.0)
        except BrowserError:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self.send("Browser.close", timeout=5.0)
        except (BrowserError, OSError):
            pass
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        self._log.close()
        self._profile.cleanup()

    @property
    def version(self) -> str:
        return str(self.send("Browser.getVersion").get("product", ""))

    def send(self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None,
             timeout: float = 30.0) -> dict[str, Any]:
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        try:
            os.write(self._to_child, json.dumps(message).encode() + b"\0")
        except OSError as exc:
            raise BrowserError(f"Chromium is gone ({exc}); its stderr: {self._stderr_tail()}") from exc
        deadline = time.monotonic() + timeout
        while self._id not in self._replies:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrowserError(f"no reply to {method} within {timeout} s")
            self.pump(remaining)
        reply = self._replies.pop(self._id)
        if "error" in reply:
            raise BrowserError(f"{method} failed: {reply['error']}")
        return reply.get("result", {})

    def pump(self, timeout: float) -> None:
        """Read what Chromium has written (replies and events), waiting at most ``timeout`` seconds."""
        import select  # noqa: PLC0415

        ready, _, _ = select.select([self._from_child], [], [], max(timeout, 0.0))
        if not ready:
            return
        chunk = os.read(self._from_child, 1 << 20)
        if not chunk:
            raise BrowserError(f"Chromium closed the DevTools pipe; its stderr: {self._stderr_tail()}")
        self._buffer += chunk
        while b"\0" in self._buffer:
            raw, self._buffer = self._buffer.split(b"\0", 1)
            message = json.loads(raw)
            if "id" in message:
                self._replies[message["id"]] = message
            elif message.get("sessionId") in self._pages:
                self._pages[message["sessionId"]]._event(message["method"], message.get("params", {}))

    def _stderr_tail(self) -> str:
        try:
            text = (pathlib.Path(self._profile.name) / "chromium-stderr.log").read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(line for line in text.splitlines() if "dbus" not in line)[-2000:]

    def open(self, url: str, *, timeout: float = 30.0) -> Page:
        """A new tab showing ``url``, loaded, with console and log events collected from the start."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        self._pages[session] = page
        for domain in ("Page", "Runtime", "Log"):
            page.send(f"{domain}.enable")
        page.send("Emulation.setDeviceMetricsOverride", width=self.width, height=self.height, deviceScaleFactor=1,
                  mobile=False)
        page.loaded = False
        page.send("Page.navigate", url=url)
        page.wait_for_load(timeout)
        return page


def screenshot(page: str | os.PathLike, out: str | os.PathLike, *, width: int = 1280, height: int = 900) -> pathlib.Path:
    """Open a local HTML file in headless Chromium and write a PNG of its first screen."""
    url = pathlib.Path(page).resolve().as_uri()
    with Browser(width=width, height=height) as browser:
        tab = browser.open(url)
        tab.evaluate("new Promise(r => setTimeout(r, 200))")
        if tab.console_errors:
            raise BrowserError(f"{page} logged errors: {tab.console_errors}")
        return tab.screenshot(out)


def main(argv: Sequence[str] | None = None) -> int:
    import argparse  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="python -m etude.testing.browser")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("screenshot", help="a PNG of a local HTML page's first screen")
    p.add_argument("page")
    p.add_argument("out")
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=900)
    args = parser.parse_args(argv)
    path = screenshot(args.page, args.out, width=args.width, height=args.height)
    print(path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
