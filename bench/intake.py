"""Sample intake speed: seconds of processing per minute of audio, with and without the speaker checks.

Baseline (same run): decoding alone. Uses ../shared/speech-dev (VCC2016 SF1, 10 files) when present,
else six Piper recordings. Usage: python bench/intake.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from realvoice.analysis import SpeakerEncoder
from realvoice.audio import decode
from realvoice.samples import take_in

DEV = Path(__file__).resolve().parents[2] / "shared" / "speech-dev" / "vcc2016" / "SF1"
LIMITS = {"max_bytes": 50_000_000, "max_seconds": 300.0}


def main() -> None:
    if DEV.exists():
        files = sorted(DEV.glob("*.wav"))[:10]
        source = "VCC2016 SF1 x10"
    else:
        from realvoice.demo import make_piper_samples

        files = make_piper_samples(Path(tempfile.mkdtemp()))
        source = "Piper x6"
    minutes = sum(decode(f, **LIMITS).duration_s for f in files) / 60
    embed = SpeakerEncoder.load().embed
    take_in(files[:1], **LIMITS, min_speech_s=1.0)  # warm-up: loads the VAD
    rows = []
    t = time.perf_counter()
    for f in files:
        decode(f, **LIMITS)
    rows.append(("decode only (baseline)", time.perf_counter() - t))
    t = time.perf_counter()
    take_in(files, **LIMITS, min_speech_s=1.0)
    rows.append(("decode + validate + clean", time.perf_counter() - t))
    t = time.perf_counter()
    take_in(files, **LIMITS, min_speech_s=1.0, embed=embed)
    rows.append(("+ speaker checks", time.perf_counter() - t))
    print(f"{source}: {minutes * 60:.1f} s of audio")
    print(f"{'stage':<28}{'seconds':>9}{'s per audio minute':>20}")
    for name, secs in rows:
        print(f"{name:<28}{secs:>9.2f}{secs / minutes:>20.2f}")


if __name__ == "__main__":
    main()
