"""Speech over HTTP: time to the first audio byte, streamed against file RTF, and the server's memory.

Starts ``realvoice serve`` in its own process on a fresh data folder with one voice (nearest-stock: the
fit does not change the speed of speech), then, for a short sentence and a 10,000-character text,
measures in the same run:
  * the stream (``/speech/stream``, MP3 and PCM): seconds to the first audio byte and the stream's RTF;
  * the file (``/speech``, WAV): seconds to the whole response and its RTF (its first byte is its end);
  * the server's resident memory before the long stream, its peak while it streams, and after.
  * stalls: how often, and how long, a player that starts at the first byte would wait for audio;
Usage: python bench/speech_http.py [--short-only | --first-minute]
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_process import start_serve  # noqa: E402
from speech import long_text  # noqa: E402

SHORT = "Thanks for watching, see you soon!"
# After a client hangs up, the piece being made still finishes (a few seconds at most on 2 cores): the
# next request must not wait for it, or its first byte says nothing about its own chunk.
SETTLE_S = 5.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children_of(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def children_rss_mb(pid: int) -> float:
    total = 0.0
    for child in children_of(pid):
        try:
            total += rss_mb(child)
        except OSError:
            continue  # it ended between the listing and the read
    return total


class RssSampler(threading.Thread):
    """The highest resident memory of ``pid`` seen every 0.1 s until stopped; with ``children``, also
    the highest of its child processes together, and of the two together."""

    def __init__(self, pid: int, children: bool = False) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self._halt = pid, 0.0, threading.Event()
        self.children, self.children_peak, self.total_peak = children, 0.0, 0.0

    def run(self) -> None:
        while not self._halt.is_set():
            own = rss_mb(self.pid)
            self.peak = max(self.peak, own)
            if self.children:
                kids = children_rss_mb(self.pid)
                self.children_peak = max(self.children_peak, kids)
                self.total_peak = max(self.total_peak, own + kids)
            time.sleep(0.1 if not self.children else 0.25)

    def stop(self) -> float:
        self._halt.set()
        self.join()
        return self.peak


def setup(home: Path) -> tuple[str, str]:
    """A user's key and a voice in ``home``."""
    from realvoice import RealVoiceCloningService
    from realvoice.demo import make_piper_samples
    from realvoice.store.users import create_key

    service = RealVoiceCloningService(home)
    result = service.create_voice("bench", "Bench", make_piper_samples(home / "piper"), mode="nearest-stock")
    assert result.success, result.errors
    key = create_key(service.db, "bench")
    service.close()
    return key, str(result.voice_id)


def start_server(home: Path, *options: str) -> tuple[subprocess.Popen, str]:
    env = os.environ | {"REALVOICE_HOME": str(home), "REALVOICE_API_REQUESTS_PER_MINUTE": "100000"}
    return start_serve(env, *options, wait_s=60)


@dataclass
class Streamed:
    first_s: float  # request sent to the first audio byte
    total_s: float
    audio_s: float  # PCM only
    stall_s: float = 0.0  # PCM only: how long a player that starts at the first byte would wait for audio
    stalls: int = 0


class Player:
    """A player that starts at the first byte and plays in real time: counts the waits for audio."""

    def __init__(self) -> None:
        self.start: float | None = None
        self.received_s = self.stall_s = 0.0
        self.stalls = 0

    def receive(self, now: float, seconds: float) -> None:
        if self.start is None:
            self.start = now
        position = now - self.start - self.stall_s  # what it would have played by now, waits aside
        if position > self.received_s:  # it ran dry before this part came
            self.stall_s += position - self.received_s
            self.stalls += 1
        self.received_s += seconds


def streamed(
    url: str, voice: str, key: str, text: str, fmt: str, whole: bool = True, audio_limit_s: float | None = None
) -> Streamed:
    """One streamed request; with ``whole`` False the client hangs up after the first bytes, with
    ``audio_limit_s`` after that much PCM audio (the server stops speaking)."""
    headers = {"Authorization": f"Bearer {key}"}
    t0 = time.perf_counter()
    first, size, player = None, 0, Player()
    with httpx.stream(
        "POST",
        f"{url}/v1/voices/{voice}/speech/stream",
        json={"text": text, "format": fmt},
        headers=headers,
        timeout=None,
    ) as r:
        r.raise_for_status()
        for part in r.iter_raw():
            now = time.perf_counter() - t0
            # A WAV's 44-byte header would not be audio; PCM and MP3 bytes are.
            first = first if first is not None else now
            size += len(part)
            player.receive(now, len(part) / 2 / 24000)
            if not whole or (audio_limit_s and player.received_s >= audio_limit_s):
                break
    total = time.perf_counter() - t0
    pcm = fmt == "pcm"
    return Streamed(
        first or total,
        total,
        size / 2 / 24000 if pcm else 0.0,
        player.stall_s if pcm else 0.0,
        player.stalls if pcm else 0,
    )


def whole_file(url: str, voice: str, key: str, text: str) -> tuple[float, float]:
    """(total seconds, seconds of audio) of one file render."""
    t0 = time.perf_counter()
    r = httpx.post(
        f"{url}/v1/voices/{voice}/speech",
        json={"text": text, "format": "wav"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=None,
    )
    r.raise_for_status()
    total = time.perf_counter() - t0
    info = sf.info(io.BytesIO(r.content))
    return total, info.frames / info.samplerate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--short-only", action="store_true", help="skip the 10,000-character text (minutes)")
    ap.add_argument(
        "--first-minute",
        action="store_true",
        help="stream only the long text's first minute of audio, and render no file of it (the first byte and stalls)",
    )
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="realvoice-bench-http-"))
    key, voice = setup(home)
    proc, url = start_server(home)
    try:
        streamed(url, voice, key, "Warm up, please.", "pcm")
        texts = {"short": SHORT} if args.short_only else {"short": SHORT, "10k chars": long_text()}
        print(
            f"{'text':<10}{'audio s':>9}{'mp3 1st s':>10}{'pcm 1st s':>10}{'stalls':>7}{'stall s':>8}"
            f"{'stream RTF':>11}{'file s':>8}{'file RTF':>9}{'RSS before':>11}{'RSS peak':>9}{'RSS after':>10}"
        )
        for label, text in texts.items():
            partial = args.first_minute and label != "short"
            mp3 = streamed(url, voice, key, text, "mp3", whole=False)
            time.sleep(SETTLE_S)  # the hung-up stream's last piece finishes before the next request
            before = rss_mb(proc.pid)
            sampler = RssSampler(proc.pid)
            sampler.start()
            pcm = streamed(url, voice, key, text, "pcm", audio_limit_s=60.0 if partial else None)
            if partial:
                time.sleep(SETTLE_S)
            peak = sampler.stop()
            after = rss_mb(proc.pid)
            file_total, file_audio = (float("nan"), 1.0) if partial else whole_file(url, voice, key, text)
            print(
                f"{label:<10}{pcm.audio_s:>9.1f}{mp3.first_s:>10.2f}{pcm.first_s:>10.2f}{pcm.stalls:>7}"
                f"{pcm.stall_s:>8.2f}{pcm.total_s / pcm.audio_s:>11.3f}{file_total:>8.1f}"
                f"{file_total / file_audio:>9.3f}{before:>11.0f}{peak:>9.0f}{after:>10.0f}"
            )
        print(
            "1st s: request sent to first audio byte; stalls: times a player starting at the first byte ran dry "
            "(stall s: for how long in all); RTF: request seconds per second of audio; RSS in MB, the server "
            "process (peak sampled every 0.1 s during the PCM stream)"
        )
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
