"""The API server's resident memory as it builds voices and speaks: does it stay flat after warm-up?

Starts ``realvoice serve`` in its own process on a fresh data folder, then builds voices one after
another through ``POST /v1/voices`` (six Piper recordings each, the default fit) and speaks through
``POST /v1/voices/{id}/speech`` (one sentence, cycling over the voices), and prints the server's RSS
(from /proc) at start-up, after 1, 5 and 10 builds, and after 100 speech requests, with the peak seen
while building. Target: under 2.5 GB, and no growth from the 5th build on.

Usage: python bench/server_memory.py [--builds 10] [--speech 100] [--mode fast]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speech_http import RssSampler, rss_mb, start_server  # noqa: E402

TEXT = "Thanks for watching, and see you in the next one!"


def _key(home: Path) -> str:
    from realvoice import RealVoiceCloningService
    from realvoice.store.users import create_key

    service = RealVoiceCloningService(home)
    key = create_key(service.db, "bench")
    service.close()
    return key


def build(url: str, headers: dict[str, str], samples: list[Path], n: int) -> str:
    files = [("files", (p.name, p.read_bytes(), "audio/wav")) for p in samples]
    form = {"name": f"Voice {n}", "consent": "true", "allow_duplicate": "true"}
    r = httpx.post(f"{url}/v1/voices", data=form, files=files, headers=headers, timeout=120)
    r.raise_for_status()
    job_id = r.json()["job_id"]
    while True:
        job = httpx.get(f"{url}/v1/jobs/{job_id}", headers=headers, timeout=30).json()
        if job["status"] in ("done", "failed"):
            break
        time.sleep(1.0)
    if job["status"] != "done":
        raise RuntimeError(f"build {n} failed: {job['message']}")
    return str(job["result"]["voice_id"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--builds", type=int, default=10)
    ap.add_argument("--speech", type=int, default=100)
    ap.add_argument("--mode", default="fast", help="the fit mode the server builds with")
    args = ap.parse_args()
    from realvoice.demo import make_piper_samples

    home = Path(tempfile.mkdtemp(prefix="realvoice-bench-mem-"))
    headers = {"Authorization": f"Bearer {_key(home)}"}
    samples = make_piper_samples(home / "piper")
    os.environ["REALVOICE_FIT_MODE"] = args.mode
    proc, url = start_server(home)
    rows: list[tuple[str, float, float]] = [("started", rss_mb(proc.pid), rss_mb(proc.pid))]
    voices: list[str] = []
    try:
        sampler = RssSampler(proc.pid)
        sampler.start()
        t0 = time.perf_counter()
        for n in range(1, args.builds + 1):
            voices.append(build(url, headers, samples, n))
            if n in (1, 5, 10) or n == args.builds:
                rows.append((f"after {n} build(s)", rss_mb(proc.pid), sampler.peak))
        build_s = time.perf_counter() - t0
        for i in range(args.speech):
            voice = voices[i % len(voices)]
            r = httpx.post(f"{url}/v1/voices/{voice}/speech", json={"text": TEXT}, headers=headers, timeout=120)
            r.raise_for_status()
        rows.append((f"after {args.speech} speech requests", rss_mb(proc.pid), sampler.stop()))
    finally:
        proc.terminate()
        proc.wait(30)
    print(f"fit mode {args.mode}; {args.builds} builds in {build_s:.0f} s; {len(set(voices))} voices")
    print("| point | RSS MB | peak so far MB |")
    print("|---|---|---|")
    for what, rss, peak in rows:
        print(f"| {what} | {rss:.0f} | {peak:.0f} |")


if __name__ == "__main__":
    main()
