"""The speech history: a user's recent speech jobs as the page lists them, and a file name for each."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from ..store.jobs import JobRecord
from .schemas import SpeechHistoryItem, SpeechJobRequest

_WORDS = re.compile(r"[^\W_]+")  # letters and digits in any script
_NAME_WORDS = 6  # enough of the text to tell renders apart in a downloads folder
_NAME_CHARS = 40


def file_name(voice_name: str, text: str, fmt: str) -> str:
    """``"Joe - hello-from-the-playground.mp3"``: the voice and the text's first words, so that downloads
    tell themselves apart; only letters, digits, spaces and dashes, so every file system takes it."""
    voice = " ".join(_WORDS.findall(voice_name))[:_NAME_CHARS].strip()
    words = "-".join(_WORDS.findall(text.lower())[:_NAME_WORDS])[:_NAME_CHARS].strip("-")
    stem = " - ".join(part for part in (voice, words) if part) or "realvoice-speech"
    return f"{stem}.{fmt}"


def history_item(job: JobRecord, voice_names: dict[str, str]) -> SpeechHistoryItem | None:
    """The job as a history entry; None where its voice is gone (its jobs go with it) or its request is
    unreadable (a row from before requests were stored)."""
    voice_id = job.request.get("voice_id")
    if not isinstance(voice_id, str) or voice_id not in voice_names:
        return None
    try:
        request = SpeechJobRequest.model_validate(job.request)
    except ValueError:
        return None
    speech = job.result.get("speech") or {}
    done = job.status == "done" and bool(speech.get("success"))
    return SpeechHistoryItem(
        job_id=job.job_id,
        status=job.status,
        progress=round(100 * job.progress, 1),
        message=job.message,
        created_at=_utc(job.created_at),
        voice_id=voice_id,
        voice_name=voice_names[voice_id],
        request=request,
        duration_s=speech.get("duration_s") if done else None,
        audio_url=f"/v1/jobs/{job.job_id}/audio" if done else None,
        file_name=file_name(voice_names[voice_id], request.text, request.format) if done else None,
        job_url=f"/v1/jobs/{job.job_id}",
    )


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
