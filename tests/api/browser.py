"""Shared by the page and streaming tests: the app under uvicorn on a loopback port; Chromium via Playwright."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from realvoice.api import create_app
from realvoice.api.config import ApiSettings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = shutil.which("chromium") is not None
SHOTS = Path(__file__).resolve().parents[2] / "out" / "screenshots"


def serve(service, sse_interval_s: float = 0.2, **settings) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, in a thread, until the generator is closed;
    ``settings``: more ApiSettings (``jobs_in_child_processes=False`` lets a test patch what a job runs)."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    api = ApiSettings(requests_per_minute=100_000, sse_interval_s=sse_interval_s, **settings)
    app = create_app(service, settings=api)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def launch(playwright):
    """Chromium with a fake microphone that the page may use without asking."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--no-sandbox"],
    )


def shot(page, name: str) -> None:
    """Screenshots a person can look at after the run (out/ is git-ignored)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@contextmanager
def signed_in(url: str, key: str, **context) -> Iterator:
    """A Chromium page on the web page at ``url``, signed in with ``key`` (``context``: the browser
    context's options, e.g. accept_downloads)."""
    from playwright import sync_api

    with sync_api.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_context(**context).new_page()
        page.set_default_timeout(30_000)
        page.goto(url + "/")
        page.get_by_label("API key").fill(key)
        page.get_by_role("button", name="Sign in").click()
        sync_api.expect(page.locator("#app")).to_be_visible()
        try:
            yield page
        finally:
            browser.close()
