"""A `realvoice serve` process for the HTTP benchmarks: started on a free port, waited for until healthy."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REALVOICE = str(Path(sys.executable).with_name("realvoice"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_serve(env: dict[str, str], *options: str, wait_s: float = 120.0) -> tuple[subprocess.Popen, str]:
    """``realvoice serve`` with ``options`` in ``env``; returns the process and its base URL."""
    port = free_port()
    cmd = [REALVOICE, "serve", "--port", str(port), *options]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/healthz", timeout=1)
            return proc, url
        except httpx.HTTPError:
            if proc.poll() is not None:
                raise SystemExit(f"the server exited at start-up (code {proc.returncode})") from None
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit("the server did not start")
