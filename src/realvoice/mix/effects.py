"""Named effects with unit-bearing parameters, built on pedalboard and pyloudnorm."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..audio import normalize_loudness
from ..errors import InvalidInputError

# name -> default parameters (units in the names)
EFFECTS: dict[str, dict[str, float]] = {
    "reverb": {"room_size": 0.25, "wet_level": 0.18, "dry_level": 0.85, "damping": 0.5},
    "echo": {"delay_seconds": 0.28, "feedback": 0.25, "mix": 0.18},
    "compression": {"threshold_db": -20.0, "ratio": 3.0, "attack_ms": 5.0, "release_ms": 120.0},
    "eq": {"highpass_hz": 80.0, "presence_gain_db": 2.5, "presence_hz": 3500.0, "air_gain_db": 2.0},
    "normalize": {"target_lufs": -16.0},
}
_ORDER = ("eq", "compression", "echo", "reverb", "normalize")


def parse_effects(
    effects: Sequence[str] | Mapping[str, Mapping[str, Any] | None] | None,
) -> dict[str, dict[str, float]]:
    """Accept ["reverb", "eq"] or {"reverb": {"room_size": 0.4}}; reject unknown names and parameters."""
    if not effects:
        return {}
    items = effects.items() if isinstance(effects, Mapping) else ((e, None) for e in effects)
    chosen: dict[str, dict[str, float]] = {}
    for name, params in items:
        key = str(name).strip().lower()
        if key not in EFFECTS:
            raise InvalidInputError(f"unknown effect {name!r}; choose from {', '.join(EFFECTS)}", code="unknown_effect")
        merged = dict(EFFECTS[key])
        for p, value in (params or {}).items():
            if p not in merged:
                raise InvalidInputError(
                    f"effect {key!r} has no parameter {p!r}; it takes {', '.join(merged)}", code="unknown_effect"
                )
            try:
                merged[p] = float(value)
            except (TypeError, ValueError) as exc:
                raise InvalidInputError(f"{key}.{p} must be a number, got {value!r}") from exc
        chosen[key] = merged
    return chosen


def apply_effects(x: np.ndarray, sr: int, effects: Mapping[str, Mapping[str, float]]) -> np.ndarray:
    """Run the chosen effects in a fixed, studio-sensible order."""
    import pedalboard as pb

    y = np.asarray(x, np.float32)
    chain: list[Any] = []
    for name in _ORDER:
        if name not in effects or name == "normalize":
            continue
        p = effects[name]
        if name == "eq":
            chain += [
                pb.HighpassFilter(cutoff_frequency_hz=p["highpass_hz"]),
                pb.PeakFilter(cutoff_frequency_hz=p["presence_hz"], gain_db=p["presence_gain_db"], q=0.9),
                pb.HighShelfFilter(cutoff_frequency_hz=8000.0, gain_db=p["air_gain_db"]),
            ]
        elif name == "compression":
            chain.append(
                pb.Compressor(
                    threshold_db=p["threshold_db"],
                    ratio=p["ratio"],
                    attack_ms=p["attack_ms"],
                    release_ms=p["release_ms"],
                )
            )
        elif name == "echo":
            chain.append(pb.Delay(delay_seconds=p["delay_seconds"], feedback=p["feedback"], mix=p["mix"]))
        elif name == "reverb":
            chain.append(
                pb.Reverb(
                    room_size=p["room_size"], wet_level=p["wet_level"], dry_level=p["dry_level"], damping=p["damping"]
                )
            )
    if chain:
        tail = int(sr * (0.6 if {"echo", "reverb"} & set(effects) else 0.0))
        y = pb.Pedalboard(chain)(np.pad(y, (0, tail)), sr).astype(np.float32)
    if "normalize" in effects:
        y = normalize_loudness(y, sr, effects["normalize"]["target_lufs"], peak_db=-1.0)
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    return y / peak * 0.98 if peak > 0.99 else y
