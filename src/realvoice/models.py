"""Typed records that cross the package's boundaries (service, CLI, API)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, computed_field

Gender = Literal["female", "male", "unknown"]
AgeBand = Literal["child", "young adult", "adult", "senior", "unknown"]
# What the fit achieved: the person's voice, a voice part way from a stock voice toward it, or a
# stock voice (a stranger) because no fitted point passed validation or no fit was asked for.
FitOutcome = Literal["fitted", "partly_fitted", "stock"]


class Issue(BaseModel):
    """One finding about a sample: a stable code, how bad it is, and what to do."""

    code: str
    severity: Literal["error", "warning"]
    message: str


class SampleMetrics(BaseModel):
    """Measured levels of a sample, before and after cleaning."""

    duration_s: float = 0.0
    speech_s: float = 0.0
    sample_rate: int = 0
    channels: int = 0
    format: str = ""
    rms_dbfs: float = -120.0
    peak_dbfs: float = -120.0
    clipped_ratio: float = 0.0
    snr_db: float = 0.0
    bandwidth_hz: float = 0.0
    decay_rate_db_s: float | None = None  # median fall of sound after it stops; low in a reverberant room
    cleaned_lufs: float | None = None
    cleaned_snr_db: float | None = None
    cleaned_duration_s: float | None = None


class SampleReport(BaseModel):
    """The verdict on one uploaded file: accepted or rejected, and why."""

    file: str
    accepted: bool
    reasons: list[str] = Field(default_factory=list)
    issues: list[Issue] = Field(default_factory=list)
    metrics: SampleMetrics = Field(default_factory=SampleMetrics)
    quality: float = 0.0  # 0-100
    speaker_similarity: float | None = None


class VoiceCharacteristics(BaseModel):
    """What the voice sounds like, each estimate with its confidence (0-1)."""

    gender: Gender = "unknown"
    gender_confidence: float = 0.0
    age_band: AgeBand = "unknown"
    age_confidence: float = 0.0
    tone: list[str] = Field(default_factory=list)
    pitch_hz: float = 0.0
    pitch_range_semitones: float = 0.0
    formants_hz: list[float] = Field(default_factory=list)
    hnr_db: float = 0.0
    jitter_percent: float = 0.0
    shimmer_percent: float = 0.0
    spectral_centroid_hz: float = 0.0
    spectral_tilt_db_per_octave: float = 0.0  # voiced long-term spectrum slope; shallower is brighter
    speaking_rate_sps: float = 0.0  # syllable nuclei per second (from intensity peaks)
    speaking_rate_wps: float = 0.0  # words per second of speech (from Whisper transcripts)
    loudness_lufs: float = 0.0


# What each part of the score measures, in the words every front end shows: the CLI prints them and
# the API sends them beside the numbers (``QualityBreakdown.parts``), which the page shows as it gets them.
SCORE_PARTS: dict[str, str] = {
    "consistency": "the recordings sound like one person",
    "sample_quality": "clean, clear recordings",
    "duration_adequacy": "enough speech",
    "variety": "varied sentences",
}


class ScorePart(BaseModel):
    """One part of the score (0-100) and what it measures, in plain words."""

    key: str
    score: float
    meaning: str


class QualityBreakdown(BaseModel):
    """The parts of the 0-100 score, each 0-100."""

    consistency: float
    sample_quality: float
    duration_adequacy: float
    variety: float

    @computed_field  # type: ignore[prop-decorator]
    @property
    def parts(self) -> list[ScorePart]:
        """Each part with its meaning, in the order a person reads them."""
        return [ScorePart(key=k, score=getattr(self, k), meaning=m) for k, m in SCORE_PARTS.items()]


ConsentMethod = Literal["recording", "attested", "none"]


class ConsentRecord(BaseModel):
    """How the speaker's consent was given: a checked recording of the statement, or the caller's word.

    ``none`` is a voice made before consent was recorded."""

    method: ConsentMethod
    statement: str = ""
    transcript: str = ""
    code_transcript: str = ""  # a second listen to the code alone
    statement_error: float | None = None  # share of the statement's letters the transcript got wrong
    statement_error_limit: float | None = None
    code_heard: bool = False
    similarity: float | None = None  # speaker similarity of the recording to the samples
    threshold: float | None = None
    speaker_model: str = ""
    checked_at: datetime | None = None


class ConsentChallenge(BaseModel):
    """A statement to read, with a one-time code, issued to one user until ``expires_at``."""

    challenge_id: str
    speaker_name: str
    code: str
    statement: str
    expires_at: datetime


class CloneResult(BaseModel):
    """Outcome of ``create_user_voice_clone``."""

    success: bool
    voice_id: str | None = None
    name: str = ""
    method: str = ""
    engine: str = ""
    quality_score: float = 0.0
    quality_tier: str = ""
    quality_breakdown: QualityBreakdown | None = None
    fit_outcome: FitOutcome = "fitted"
    characteristics: VoiceCharacteristics | None = None
    sample_reports: list[SampleReport] = Field(default_factory=list)
    total_speech_s: float = 0.0
    validation: dict[str, float] = Field(default_factory=dict)
    fingerprint: str = ""
    errors: list[str] = Field(default_factory=list)
    error_code: str | None = None
    warnings: list[str] = Field(default_factory=list)
    # stable codes of the warnings that matter most ("stock_voice", "partly_fitted"), for programs
    warning_codes: list[str] = Field(default_factory=list)
    recommendations: list[str] = Field(default_factory=list)
    # the fit was cut short or did not reach the speaker: refining the voice (a thorough fit from the
    # stored recordings, in the background) may bring it closer; the warnings say so in words
    refine_advised: bool = False
    consent: ConsentRecord | None = None
    elapsed_s: float = 0.0


class SpeechResult(BaseModel):
    """Outcome of a synthesis request: a WAV file and what is in it."""

    success: bool
    audio_path: str | None = None
    duration_s: float = 0.0
    sample_rate: int = 0
    voice_id: str | None = None
    text_chars: int = 0
    elapsed_s: float = 0.0
    real_time_factor: float = 0.0
    background_music: bool = False
    effects: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    error_code: str | None = None


class VoiceSummary(BaseModel):
    """One line of a user's voice list."""

    voice_id: str
    name: str
    description: str = ""
    quality_score: float
    quality_tier: str
    method: str
    engine: str
    created_at: datetime
    sample_count: int = 0
    fit_outcome: FitOutcome = "fitted"
    warning_codes: list[str] = Field(default_factory=list)
    consent: ConsentMethod = "none"
    version: int = 1  # the voice file's version: each refinement that validated better adds one
    refine_advised: bool = False  # a rough draft or a stock voice: refining it may bring it closer
    # what the voice sounds like (gender, age band, pitch, tone), so a list can tell voices apart
    characteristics: VoiceCharacteristics = Field(default_factory=VoiceCharacteristics)


class VoiceDetail(VoiceSummary):
    """Everything stored about a voice."""

    sample_reports: list[SampleReport]
    warnings: list[str] = Field(default_factory=list)  # as the build reported them, the verdict first
    recommendations: list[str] = Field(default_factory=list)
    validation: dict[str, float] = Field(default_factory=dict)
    fingerprint: str = ""
    consent_record: ConsentRecord = Field(default_factory=lambda: ConsentRecord(method="none"))


class ValidationScore(BaseModel):
    """A voice measured by the validation a build uses: its validation sentences spoken, then heard."""

    similarity: float  # speaker similarity to the samples (cosine of speaker embeddings)
    wer: float  # share of the sentences' words the recogniser got wrong
    fit_outcome: FitOutcome


class RefineResult(BaseModel):
    """Outcome of ``refine_voice``: a thorough fit from the stored recordings, kept only if it validates better."""

    success: bool
    voice_id: str
    improved: bool = False  # the new fit validated better and is now the voice
    version: int = 1  # the voice file's version now in use
    previous_version: int = 1
    before: ValidationScore | None = None  # the voice as it was, measured in this run
    after: ValidationScore | None = None  # the new fit, measured the same way
    message: str = ""  # one sentence a person can act on
    fit_outcome: FitOutcome = "fitted"  # of the voice now in use
    quality_score: float = 0.0
    quality_tier: str = ""
    warnings: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    error_code: str | None = None
    elapsed_s: float = 0.0


def quality_tier(score: float) -> str:
    """The seed's tiers: 90+ excellent, 80-89 very good, 70-79 good, below 70 needs more samples."""
    if score >= 90:
        return "excellent"
    if score >= 80:
        return "very good"
    if score >= 70:
        return "good"
    return "needs more samples"
