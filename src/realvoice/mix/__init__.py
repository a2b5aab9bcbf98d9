"""Post-production: studio effects (pedalboard) and background music ducked under the voice."""

from .effects import EFFECTS, apply_effects, parse_effects
from .music import add_background_music, generate_music

__all__ = ["EFFECTS", "add_background_music", "apply_effects", "generate_music", "parse_effects"]
