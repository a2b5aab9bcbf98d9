"""Post-production: studio effects (pedalboard), loudness mastering, and generated music beds ducked under the
voice."""

from .beds import BEDS, DEFAULT_BED, Bed
from .effects import EFFECTS, PRESETS, Effect, EffectChain, EffectsSpec, apply_effects, parse_effects
from .loudness import crest_factor_db, limit_true_peak, normalize, true_peak_dbtp
from .music import Mixdown, add_background_music, fit_length, load_music, mix_music, render_bed, speech_activity

__all__ = [
    "BEDS",
    "DEFAULT_BED",
    "EFFECTS",
    "PRESETS",
    "Bed",
    "Effect",
    "EffectChain",
    "EffectsSpec",
    "Mixdown",
    "add_background_music",
    "apply_effects",
    "crest_factor_db",
    "fit_length",
    "limit_true_peak",
    "load_music",
    "mix_music",
    "normalize",
    "parse_effects",
    "render_bed",
    "speech_activity",
    "true_peak_dbtp",
]
