"""The API server's resident memory as it builds voices and speaks: does it stay flat after warm-up?

Starts ``realvoice serve`` in its own process on a fresh data folder, then builds voices one after
another through ``POST /v1/voices`` (six Piper recordings each, the default fit) and speaks through
``POST /v1/voices/{id}/speech`` (one sentence, cycling over the voices), and prints the server's RSS
(from /proc) at start-up, after 1, 5 and 10 builds, and after 100 speech requests, with the peaks
seen so far: the server's own, its job processes' and the two together. Target: the server under
2.5 GB, and no growth from the 5th build on.

The same run does it twice, on fresh data folders: with each job in a child process (the default)
and with jobs in the server's threads (``REALVOICE_API_JOBS_IN_CHILD_PROCESSES=false``, the baseline).

Usage: python bench/server_memory.py [--builds 10] [--speech 100] [--mode fast] [--jobs both|process|thread]
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
    if r.status_code != 202:
        raise RuntimeError(f"build {n} refused: {r.status_code} {r.text[:300]}")
    job_id = r.json()["job_id"]
    while True:
        job = httpx.get(f"{url}/v1/jobs/{job_id}", headers=headers, timeout=30).json()
        if job["status"] in ("done", "failed"):
            break
        time.sleep(1.0)
    if job["status"] != "done":
        raise RuntimeError(f"build {n} failed: {job['message']}")
    return str(job["result"]["voice_id"])


Row = tuple[str, float, float, float, float]  # point, RSS, own peak, job processes' peak, both together


def measure(args: argparse.Namespace, in_children: bool) -> tuple[list[Row], float]:
    """One server on a fresh data folder; its rows and the seconds its builds took."""
    from realvoice.demo import make_piper_samples

    home = Path(tempfile.mkdtemp(prefix="realvoice-bench-mem-"))
    headers = {"Authorization": f"Bearer {_key(home)}"}
    samples = make_piper_samples(home / "piper")
    os.environ["REALVOICE_FIT_MODE"] = args.mode
    os.environ["REALVOICE_API_JOBS_IN_CHILD_PROCESSES"] = str(in_children).lower()
    proc, url = start_server(home, "--no-require-consent")  # the bench has no consent recordings to send
    sampler = RssSampler(proc.pid, children=True)

    def row(what: str) -> Row:
        return (what, rss_mb(proc.pid), sampler.peak, sampler.children_peak, sampler.total_peak)

    rows = [row("started")]
    voices: list[str] = []
    try:
        sampler.start()
        t0 = time.perf_counter()
        for n in range(1, args.builds + 1):
            voices.append(build(url, headers, samples, n))
            if n in (1, 5, 10) or n == args.builds:
                rows.append(row(f"after {n} build(s)"))
        build_s = time.perf_counter() - t0
        for i in range(args.speech):
            voice = voices[i % len(voices)]
            r = httpx.post(f"{url}/v1/voices/{voice}/speech", json={"text": TEXT}, headers=headers, timeout=120)
            r.raise_for_status()
        rows.append(row(f"after {args.speech} speech requests"))
    finally:
        sampler.stop()
        proc.terminate()
        proc.wait(30)
    return rows, build_s


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--builds", type=int, default=10)
    ap.add_argument("--speech", type=int, default=100)
    ap.add_argument("--mode", default="fast", help="the fit mode the server builds with")
    ap.add_argument("--jobs", choices=("both", "process", "thread"), default="both")
    args = ap.parse_args()
    modes = {"both": (True, False), "process": (True,), "thread": (False,)}[args.jobs]
    print(f"fit mode {args.mode}; {args.builds} builds, then {args.speech} speech requests, per server")
    print("| jobs in | point | server RSS MB | server peak MB | job processes' peak MB | together, peak MB |")
    print("|---|---|---|---|---|---|")
    for in_children in modes:
        rows, build_s = measure(args, in_children)
        where = "child processes" if in_children else "server threads"
        for what, rss, peak, kids, total in rows:
            print(f"| {where} | {what} | {rss:.0f} | {peak:.0f} | {kids:.0f} | {max(total, peak):.0f} |", flush=True)
        print(f"| {where} | {args.builds} builds took {build_s:.0f} s | | | | |", flush=True)


if __name__ == "__main__":
    main()
