"""TTSService: the seed's speech entry point, with background music and studio effects."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from .mix import EffectsSpec
from .models import SpeechResult
from .service import RealVoiceCloningService


class TTSService:
    """Speaks text in a user's cloned voice; shares the cloning service's store and engine."""

    def __init__(self, cloning_service: RealVoiceCloningService | None = None, home: str | Path | None = None) -> None:
        self.cloning = cloning_service or RealVoiceCloningService(home)

    async def generate_user_voice_audio(
        self,
        text: str,
        voice_id: str,
        user_id: str,
        background_music: bool | str | Path = False,
        effects: EffectsSpec = None,
        **kwargs: Any,
    ) -> SpeechResult:
        """``background_music``: True (the default bed), "ambient", "lofi", "corporate" or a path to a track;
        ``effects``: a preset ("podcast", "radio", "cinematic", "phone"), names, {name: amount} as in
        ``{'reverb': 0.2, 'compression': 0.4, 'normalization': True}``, or {name: {parameter: value}}."""
        return await asyncio.to_thread(
            self.cloning.render, voice_id, text, user_id, background_music=background_music, effects=effects, **kwargs
        )
