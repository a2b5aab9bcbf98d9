"""Named studio effects with unit-bearing, range-checked parameters, presets, and the chain that runs them.

``parse_effects`` accepts every shape callers use and returns an ``EffectChain``:

* names: ``["eq", "compression", "normalize"]`` or one string, ``"podcast"`` (a preset) or ``"reverb"``;
* amounts, as in the seed: ``{"reverb": 0.2, "compression": 0.4, "normalization": True}`` (a number sets the
  effect's main control: an amount 0-1, the loudness target in LUFS, or semitones; True: defaults; False: off);
* parameters: ``{"reverb": {"room_size": 0.6, "wet_level": 0.3}, "normalize": {"target_lufs": -14}}``.

Presets expand in place, and a later entry replaces an earlier one of the same effect.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np

from ..errors import InvalidInputError

EffectsSpec: TypeAlias = str | Sequence[str] | Mapping[str, Any] | None


@dataclass(frozen=True)
class Param:
    """One control: its default, the range it must lie in, and its unit."""

    default: float
    low: float
    high: float
    unit: str = ""

    def describe(self, name: str) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{name} ({self.low:g} to {self.high:g}{unit})"


@dataclass(frozen=True)
class EffectSpec:
    """What an effect takes. ``main`` is what a bare number sets; ``from_amount`` turns an amount 0-1 into
    unit parameters (effects without it have no amount)."""

    name: str
    params: Mapping[str, Param]
    main: str
    from_amount: Callable[[float], dict[str, float]] | None = None
    needs_value: bool = False

    @property
    def controls(self) -> dict[str, Param]:
        amount = {"amount": Param(self.params["amount"].default, 0.0, 1.0)} if "amount" in self.params else {}
        return amount | {k: v for k, v in self.params.items() if k != "amount"}

    def allowed(self) -> str:
        return ", ".join(p.describe(k) for k, p in self.controls.items())


@dataclass(frozen=True)
class Effect:
    """One effect, resolved to concrete unit parameters (no ``amount``)."""

    name: str
    params: Mapping[str, float] = field(default_factory=dict)


def _reverb(a: float) -> dict[str, float]:
    return {"room_size": 0.2 + 0.7 * a, "wet_level": 0.06 + 0.34 * a, "dry_level": 1.0 - 0.25 * a}


def _echo(a: float) -> dict[str, float]:
    return {"feedback": 0.1 + 0.4 * a, "mix": 0.05 + 0.3 * a}


def _compression(a: float) -> dict[str, float]:
    return {"threshold_db": -12.0 - 18.0 * a, "ratio": 1.5 + 6.5 * a}


def _eq(a: float) -> dict[str, float]:
    return {"presence_db": 5.0 * a, "deess_db": 8.0 * a}


def _chorus(a: float) -> dict[str, float]:
    return {"depth": 0.1 + 0.4 * a, "mix": 0.1 + 0.4 * a}


_UNIT = Param(0.5, 0.0, 1.0)
EFFECTS: dict[str, EffectSpec] = {
    spec.name: spec
    for spec in (
        EffectSpec("pitch", {"semitones": Param(0.0, -12.0, 12.0, "semitones")}, main="semitones", needs_value=True),
        EffectSpec(
            "eq",
            {
                "amount": Param(0.5, 0.0, 1.0),
                "lowcut_hz": Param(80.0, 20.0, 500.0, "Hz"),
                "highcut_hz": Param(20000.0, 1000.0, 20000.0, "Hz"),
                "presence_hz": Param(3500.0, 1000.0, 8000.0, "Hz"),
                "presence_db": Param(2.5, -12.0, 12.0, "dB"),
                "deess_hz": Param(6000.0, 3000.0, 12000.0, "Hz"),
                "deess_db": Param(4.0, 0.0, 24.0, "dB"),
            },
            main="amount",
            from_amount=_eq,
        ),
        EffectSpec(
            "compression",
            {
                "amount": Param(0.5, 0.0, 1.0),
                "threshold_db": Param(-21.0, -60.0, 0.0, "dB"),
                "ratio": Param(4.75, 1.0, 20.0, ":1"),
                "attack_ms": Param(3.0, 0.1, 200.0, "ms"),
                "release_ms": Param(120.0, 5.0, 2000.0, "ms"),
                "makeup_db": Param(0.0, -12.0, 24.0, "dB"),
            },
            main="amount",
            from_amount=_compression,
        ),
        EffectSpec(
            "chorus",
            {
                "amount": Param(0.3, 0.0, 1.0),
                "rate_hz": Param(0.8, 0.05, 10.0, "Hz"),
                "depth": Param(0.22, 0.0, 1.0),
                "centre_delay_ms": Param(7.0, 1.0, 50.0, "ms"),
                "feedback": Param(0.0, -0.95, 0.95),
                "mix": Param(0.22, 0.0, 1.0),
            },
            main="amount",
            from_amount=_chorus,
        ),
        EffectSpec(
            "echo",
            {
                "amount": Param(0.3, 0.0, 1.0),
                "delay_seconds": Param(0.25, 0.01, 2.0, "s"),
                "feedback": Param(0.22, 0.0, 0.95),
                "mix": Param(0.14, 0.0, 1.0),
            },
            main="amount",
            from_amount=_echo,
        ),
        EffectSpec(
            "reverb",
            {
                "amount": Param(0.25, 0.0, 1.0),
                "room_size": _UNIT,
                "damping": _UNIT,
                "wet_level": _UNIT,
                "dry_level": _UNIT,
                "width": Param(1.0, 0.0, 1.0),
            },
            main="amount",
            from_amount=_reverb,
        ),
        EffectSpec(
            "normalize",
            {
                "target_lufs": Param(-16.0, -40.0, -5.0, "LUFS"),
                "true_peak_db": Param(-1.0, -9.0, 0.0, "dBTP"),
            },
            main="target_lufs",
        ),
    )
}
ALIASES = {
    "normalization": "normalize",
    "normalisation": "normalize",
    "normalise": "normalize",
    "loudness": "normalize",
    "delay": "echo",
    "compressor": "compression",
    "compress": "compression",
    "pitch_shift": "pitch",
    "pitchshift": "pitch",
    "equalizer": "eq",
    "equaliser": "eq",
}
PRESETS: dict[str, dict[str, Any]] = {
    "podcast": {"eq": {"lowcut_hz": 80, "presence_db": 2.5, "deess_db": 4}, "compression": 0.5, "normalize": -16},
    "radio": {"eq": {"lowcut_hz": 100, "presence_db": 4, "deess_db": 6}, "compression": 0.85, "normalize": -14},
    "cinematic": {
        "eq": {"lowcut_hz": 60, "presence_db": 1.5, "deess_db": 3},
        "compression": 0.4,
        "echo": {"delay_seconds": 0.32, "feedback": 0.2, "mix": 0.07},
        "reverb": 0.55,
        "normalize": -16,
    },
    "phone": {
        "eq": {"lowcut_hz": 300, "highcut_hz": 3400, "presence_hz": 1800, "presence_db": 4, "deess_db": 0},
        "compression": 0.7,
        "normalize": -16,
    },
}
ORDER = tuple(EFFECTS)  # the studio order the chain always runs in


def _bad(message: str) -> InvalidInputError:
    return InvalidInputError(message, code="bad_effect_value")


def _choices() -> str:
    return f"effects: {', '.join(EFFECTS)}; presets: {', '.join(PRESETS)}"


def _number(key: str, value: Any, param: Param) -> float:
    number = float(value) if isinstance(value, numbers.Real) and not isinstance(value, bool) else math.nan
    if not math.isfinite(number):
        raise _bad(f"{key} must be a number from {param.low:g} to {param.high:g}, got {value!r}")
    if not param.low <= number <= param.high:
        unit = f" {param.unit}" if param.unit else ""
        raise _bad(f"{key} must be from {param.low:g} to {param.high:g}{unit}, got {value!r}")
    return number


def _resolve(spec: EffectSpec, value: Any) -> Effect | None:
    """One effect's value (True, a number, or a parameter dict) to concrete parameters; None when switched off."""
    if value is False or value is None:
        return None
    if value is True:
        if spec.needs_value:
            raise _bad(f"{spec.name} needs a value: {spec.allowed()}")
        value = {}
    elif not isinstance(value, Mapping):
        value = {spec.main: value}
    controls = spec.controls
    for key in value:
        if key not in controls:
            raise InvalidInputError(
                f"effect {spec.name!r} has no parameter {key!r}; it takes {spec.allowed()}", code="unknown_effect"
            )
    given = {k: _number(f"{spec.name}.{k}", v, controls[k]) for k, v in value.items()}
    params = {k: p.default for k, p in spec.params.items() if k != "amount"}
    if spec.from_amount is not None:
        params |= spec.from_amount(given.pop("amount", spec.params["amount"].default))
    return Effect(spec.name, params | given)


def _items(effects: EffectsSpec) -> Iterator[tuple[str, Any]]:
    if isinstance(effects, str):
        effects = [part for part in effects.split(",") if part.strip()]
    if isinstance(effects, Mapping):
        yield from effects.items()
    elif isinstance(effects, Sequence):
        for name in effects:
            yield name, True
    else:
        raise _bad(f"effects must be names, a preset, or a dict of effect settings; got {type(effects).__name__}")


def parse_effects(effects: EffectsSpec) -> EffectChain:
    """Check and resolve an effects request; unknown names or parameters raise ``unknown_effect``, values of the
    wrong type or out of range raise ``bad_effect_value``, each naming what is allowed."""
    if isinstance(effects, EffectChain):
        return effects
    if effects is None or (not isinstance(effects, str) and not effects):
        return EffectChain({})
    chosen: dict[str, Effect] = {}
    for raw, value in _items(effects):
        key = ALIASES.get(str(raw).strip().lower(), str(raw).strip().lower())
        if key in PRESETS:
            if value is not True and value is not False:
                raise _bad(f"a preset is on or off: name {key} without a value (as in -e {key}), not {value!r}")
            if value:
                chosen |= parse_effects(PRESETS[key]).effects
        elif key in EFFECTS:
            effect = _resolve(EFFECTS[key], value)
            chosen.pop(key, None)
            if effect is not None:
                chosen[key] = effect
        else:
            raise InvalidInputError(f"unknown effect {raw!r}; {_choices()}", code="unknown_effect")
    return EffectChain(chosen)


class EffectChain(Mapping[str, Effect]):
    """Resolved effects, in the order they run (``list(chain)`` gives their names); call it on (audio, rate)."""

    def __init__(self, effects: Mapping[str, Effect]) -> None:
        self.effects = {name: effects[name] for name in ORDER if name in effects}

    def __getitem__(self, name: str) -> Effect:
        return self.effects[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.effects)

    def __len__(self) -> int:
        return len(self.effects)

    def __repr__(self) -> str:
        return f"EffectChain({', '.join(self.effects)})"

    def __call__(self, audio: np.ndarray, sr: int) -> np.ndarray:
        from .processors import run_chain

        return run_chain(list(self.effects.values()), audio, sr)


def apply_effects(audio: np.ndarray, sr: int, effects: EffectChain | EffectsSpec) -> np.ndarray:
    """Run effects on a mono clip; the result may be longer by the reverb or echo tail."""
    chain = effects if isinstance(effects, EffectChain) else parse_effects(effects)
    return chain(audio, sr)
