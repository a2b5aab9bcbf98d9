"""Sample intake: decode each upload, judge it, clean it, and report on it."""

from .clean import CleanedSample, clean
from .intake import IntakeResult, take_in
from .validate import Measured, measure

__all__ = ["CleanedSample", "IntakeResult", "Measured", "clean", "measure", "take_in"]
