"""Serving many users: voice builds on the task queue, and speech latency with several API processes.

One run, one machine, everything real: a Redis server (Debian's redis-server), a fresh data folder
(SQLite), `realvoice serve` and `realvoice worker` processes.
  * Builds: a burst of ``--builds`` uploads (from users of two slots each) with 1 worker, then with 2;
    builds per minute (first upload to last voice) and queue latency (upload answered -> a worker
    starts it), p50 and max.
  * Speech: ``--requests`` concurrent short requests (WAV) to 1 API process, then to 4
    (`serve --workers 4`, as configured, then with one thread and one render each); p50 and p95 of
    each request's whole time, and how many were refused (503).
Usage: python bench/serving.py [--builds 10 (0: speech only)] [--fit-mode fast] [--requests 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_process import REALVOICE, free_port, start_serve  # noqa: E402

SHORT = "Thanks for watching, see you soon!"


def start_redis(folder: Path) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not installed (`make services` installs it)")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    return proc, f"redis://127.0.0.1:{port}/0"


def serve(env: dict[str, str], workers: int = 1) -> tuple[subprocess.Popen, str]:
    return start_serve(env, "--workers", str(workers), "--no-require-consent")


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(60)


def builds(env: dict[str, str], api: str, keys: list[str], samples: list[Path], n: int, workers: int) -> dict:
    from sqlalchemy import select

    from realvoice.store import Database, JobRow

    procs = [subprocess.Popen([REALVOICE, "worker"], env=env, stdout=subprocess.DEVNULL) for _ in range(workers)]
    db = Database(env["REALVOICE_DATABASE_URL"])
    files = [("files", (p.name, p.read_bytes(), "audio/wav")) for p in samples]
    form = {"name": "Bench", "consent": "true", "allow_duplicate": "true"}
    t0, accepted, owners = time.time(), {}, {}
    for i in range(n):
        key = keys[i // 2 % len(keys)]
        r = httpx.post(f"{api}/v1/voices", data=form, files=files, headers={"Authorization": f"Bearer {key}"})
        r.raise_for_status()
        accepted[r.json()["job_id"]] = time.time()
        owners[r.json()["job_id"]] = key
    started: dict[str, float] = {}
    while True:
        with db.session() as s:
            rows = s.scalars(select(JobRow).where(JobRow.id.in_(list(accepted)))).all()
        now = time.time()
        for row in rows:
            if row.status != "queued" and row.id not in started:
                started[row.id] = now
        if all(r.status in ("done", "failed") for r in rows):
            break
        time.sleep(0.2)
    ends = [r.updated_at.replace(tzinfo=r.updated_at.tzinfo or UTC).timestamp() for r in rows]
    stop(procs)
    db.dispose()
    waits = sorted(started[j] - accepted[j] for j in accepted)
    return {
        "workers": workers,
        "done": sum(r.status == "done" for r in rows),
        "failed": [r.message for r in rows if r.status == "failed"],
        "per_minute": n / (max(ends) - t0) * 60,
        "wait_p50": statistics.median(waits),
        "wait_max": waits[-1],
        "voice": next((r.result["voice_id"], owners[r.id]) for r in rows if r.status == "done"),
    }


def speech(url: str, key: str, voice_id: str, n: int) -> dict:
    def one(_: int) -> tuple[float, int]:  # (seconds, HTTP status)
        t = time.perf_counter()
        r = httpx.post(
            f"{url}/v1/voices/{voice_id}/speech",
            json={"text": SHORT, "format": "wav"},
            headers={"Authorization": f"Bearer {key}"},
            timeout=300,
        )
        return time.perf_counter() - t, r.status_code

    # Warm-up: enough requests at once that every API process has loaded its models (the first
    # request a process gets pays that load, which is start-up, not serving).
    with ThreadPoolExecutor(8) as pool:
        warm = list(pool.map(one, range(8)))
    if any(code != 200 for _, code in warm):
        raise SystemExit(f"warm-up speech requests failed: {sorted({code for _, code in warm})}")
    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(one, range(n)))
    ok = sorted(t for t, code in results if code == 200)
    return {
        "ok": len(ok),
        "refused": sum(code == 503 for _, code in results),
        "other": sorted({code for _, code in results} - {200, 503}),
        "p50": statistics.median(ok) if ok else float("nan"),
        "p95": ok[min(len(ok) - 1, int(0.95 * len(ok)))] if ok else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--builds", type=int, default=10)
    parser.add_argument("--fit-mode", default="fast")
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    from realvoice.demo import make_piper_samples
    from realvoice.store import Database
    from realvoice.store.users import create_key

    root = Path(tempfile.mkdtemp(prefix="bench-queue-"))
    redis, broker = start_redis(root)
    home = root / "home"
    url = f"sqlite:///{home / 'realvoice.db'}"
    home.mkdir()
    env = os.environ | {
        "REALVOICE_HOME": str(home),
        "REALVOICE_DATABASE_URL": url,
        "REALVOICE_BROKER_URL": broker,
        "REALVOICE_FIT_MODE": args.fit_mode,
        "REALVOICE_API_REQUESTS_PER_MINUTE": "100000",
        "REALVOICE_API_RENDER_QUEUE": "100",
        "REALVOICE_API_RENDER_WAIT_S": "300",
    }
    db = Database(url)
    keys = [create_key(db, f"bench-{i}") for i in range(max(1, (args.builds + 1) // 2))]
    db.dispose()
    samples = make_piper_samples(root / "samples")
    try:
        api, api_url = serve(env)
        rows = [builds(env, api_url, keys, samples, args.builds, w) for w in (1, 2)] if args.builds else []
        voice, key = rows[0]["voice"] if rows else stock_voice(home, samples)
        speech_rows = [("1", speech(api_url, key, voice, args.requests))]
        stop([api])
        # 4 processes as they come (each renders 2 at once on every core), then 4 that each render
        # one request on one thread: on a small machine the processes compete for the same cores.
        one_each = {"REALVOICE_THREADS": "1", "REALVOICE_API_RENDERS": "1"}
        for label, extra in (("4", {}), ("4, one thread and one render each", one_each)):
            api4, api4_url = serve(env | extra, workers=4)
            speech_rows.append((label, speech(api4_url, key, voice, args.requests)))
            stop([api4])
    finally:
        redis.terminate()
        shutil.rmtree(root, ignore_errors=True)
    if rows:
        print_builds(rows, args)
    print(f"\nShort speech, {args.requests} requests at once (WAV, whole response)")
    print("| API processes | answered | refused (503) | other failures | p50 (s) | p95 (s) |")
    print("|---|---|---|---|---|---|")
    for n, s in speech_rows:
        print(f"| {n} | {s['ok']} | {s['refused']} | {s['other'] or '-'} | {s['p50']:.2f} | {s['p95']:.2f} |")


def stock_voice(home: Path, samples: list[Path]) -> tuple[str, str]:
    """With ``--builds 0``: one voice made in-process with no fit (speech costs the same for any voice)."""
    from realvoice import RealVoiceCloningService
    from realvoice.config import Settings
    from realvoice.store.users import create_key

    service = RealVoiceCloningService(home, settings=Settings(home=home, fit_mode="nearest-stock"))
    try:
        voice = service.create_voice("bench-speech", "Bench", samples)
        return voice.voice_id, create_key(service.db, "bench-speech")
    finally:
        service.close()


def print_builds(rows: list[dict], args: argparse.Namespace) -> None:
    print(f"\nVoice builds ({args.builds} uploads at once, fit mode {args.fit_mode}, {os.cpu_count()} cores)")
    print("| workers | built | builds per minute | queue wait p50 (s) | queue wait max (s) |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['workers']} | {r['done']}/{args.builds} | {r['per_minute']:.2f} "
            f"| {r['wait_p50']:.1f} | {r['wait_max']:.1f} |"
        )
        for message in r["failed"]:
            print(f"  failed: {message}")


if __name__ == "__main__":
    main()
