"""Synthesis engines behind one small interface; Kokoro-82M (int8 ONNX) is the embedded default."""

from .base import Engine, EnrollSample, VoiceCheck, VoiceModel


def get_engine(name: str, cache_dir, threads: int = 0, fit_mode: str = "fast", settings=None) -> Engine:
    """The engine named in settings, loaded once per process by its own ``load``."""
    if name == "kokoro":
        from .kokoro import KokoroEngine

        return KokoroEngine.load(cache_dir, threads=threads, fit_mode=fit_mode, settings=settings)
    from ..errors import EngineError

    raise EngineError(f"unknown engine {name!r}; available: kokoro")


__all__ = ["Engine", "EnrollSample", "VoiceCheck", "VoiceModel", "get_engine"]
