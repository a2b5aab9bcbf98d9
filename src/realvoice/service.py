"""The seed's API: create, list, use and delete a user's cloned voices. Async where work is heavy."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .analysis import (
    SpeakerEncoder,
)
from .analysis.fingerprint import sample_hash
from .build_lock import WAITING, BuildLock
from .config import Settings
from .consent import ConsentRecording, Heard, check_statement
from .consent.hear import hear_recording
from .deadline import Deadline
from .engines import Engine, VoiceModel, get_engine
from .enrollment import (
    analyse,
    check_request,
    clone_result,
    enroll_samples,
    enrollment_stages,
    fix_advice,
    refuse_unusable,
    take_samples,
)
from .errors import (
    BusyError,
    ConsentError,
    RealVoiceError,
    StorageError,
)
from .models import (
    CloneResult,
    ConsentChallenge,
    ConsentRecord,
    RefineResult,
    SampleReport,
    SpeechResult,
    VoiceDetail,
    VoiceSummary,
)
from .pipeline import Chunk
from .progress import Progress
from .refinement import REFINE_MODE, refine_stored
from .renderer import Controls, Resolve, SpeakingVoice, SpeechRenderer
from .store import Database, FileBlobStore, VoiceRow
from .store.blobs import new_id
from .store.consent import ConsentChallenges
from .store.janitor import sweep_abandoned
from .store.jobs import JobRecord, JobStore
from .store.leases import Lease, Leases
from .store.lexicon import LexiconStore
from .streaming import SpeechStream
from .voice_cache import VoiceModels
from .voices import VoiceStore, check_user, refine_lease

# verify(): Resemblyzer similarity of a clip to the voice's centroid. Stricter than the sample check
# (samples/intake.py SAME_SPEAKER_MIN): verify vouches for a new clip, where a false "same" costs more
# than a false "different"; the CLI prints both numbers so the report picture's line does not contradict it.
SAME_SPEAKER = 0.75
PREVIEW_TEXT = "Hello! This is a preview of my cloned voice. I hope it sounds just like me."


def _user_folder(user_id: str) -> str:
    return hashlib.sha256(user_id.encode()).hexdigest()[:24]


class RealVoiceCloningService:
    """Owns the settings, the store and the engine; every method checks that the voice is the user's."""

    def __init__(
        self, home: str | Path | None = None, *, settings: Settings | None = None, engine: Engine | None = None
    ) -> None:
        self.settings = settings or (Settings(home=Path(home)) if home is not None else Settings())
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self.db = Database(self.settings.db_url, migrate=self.settings.migrate_on_start)
        self.blobs = FileBlobStore(self.settings.voices_dir, self.settings.staging_dir)
        self.leases = Leases(self.settings.leases_dir)
        self.sweep()
        self.jobs = JobStore(self.db, self.leases, self.settings.renders_dir)
        self._engine = engine
        self._engine_lock = threading.Lock()
        self.voices = VoiceStore(self.settings, self.db, self.blobs, self.leases, lambda: self.engine, VoiceModels())
        self.lexicon = LexiconStore(self.db)
        self.speech = SpeechRenderer(self.settings, lambda: self.engine)
        self.consent_challenges = ConsentChallenges(self.db, self.settings.consent_code_seconds)

    def sweep(self) -> None:
        """Clear what dead processes left in the data folder (work a live process holds is left alone)."""
        s = self.settings
        sweep_abandoned(self.db, self.blobs, self.leases, s.uploads_dir, s.renders_dir, s.jobs_dir)

    # --- shared pieces -----------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        with self._engine_lock:
            if self._engine is None:
                s = self.settings
                self._engine = get_engine(s.engine, s.cache_dir, s.threads, s.fit_mode, settings=s)
            return self._engine

    def _row(self, voice_id: str, user_id: str) -> VoiceRow:
        """The user's voice, or VoiceNotFoundError; another user's voice reads exactly as missing."""
        return self.voices.row(voice_id, user_id)

    def _voice_model(self, row: VoiceRow) -> VoiceModel:
        return self.voices.model(row)

    def get_job(self, job_id: str, user_id: str) -> JobRecord:
        return self.jobs.get(job_id, check_user(user_id))

    def delete_job(self, job_id: str, user_id: str) -> bool:
        """Remove the user's job row and anything it rendered; False if the user has no such job."""
        return self.jobs.delete(job_id, check_user(user_id))

    # --- creating a voice ----------------------------------------------------------------------

    async def create_user_voice_clone(
        self,
        user_id: str,
        voice_name: str,
        audio_files: Sequence[str | Path],
        description: str = "",
        *,
        progress: Progress | None = None,
        allow_duplicate: bool = False,
        mode: str | None = None,
        consent: ConsentRecording | None = None,
    ) -> CloneResult:
        """Check, clean and analyse the samples, build the voice model, and store it atomically.

        ``mode``: "fast" (the default, about a minute), "thorough" (minutes) or "nearest-stock" (no fit).
        ``consent``: the speaker reading the statement of :meth:`issue_consent_challenge`; without it the
        voice records the caller's word for the speaker's consent, unless the settings require a recording.
        """
        return await asyncio.to_thread(
            self.create_voice,
            user_id,
            voice_name,
            audio_files,
            description,
            progress=progress,
            allow_duplicate=allow_duplicate,
            mode=mode,
            consent=consent,
        )

    def create_voice(
        self,
        user_id: str,
        voice_name: str,
        audio_files: Sequence[str | Path],
        description: str = "",
        *,
        progress: Progress | None = None,
        allow_duplicate: bool = False,
        labels: Sequence[str] | None = None,
        record_job: bool = True,
        mode: str | None = None,
        consent: ConsentRecording | None = None,
        voice_id: str | None = None,
    ) -> CloneResult:
        """Synchronous form of :meth:`create_user_voice_clone`.

        ``labels`` names the samples in reports (an API passes the uploader's filenames); ``record_job``
        False leaves job bookkeeping to a caller that keeps its own job row; ``voice_id`` is the id to publish
        the voice under (a job chooses it up front, so that running twice yields one voice).
        """
        t0 = time.perf_counter()
        reports: list[SampleReport] = []
        job_id: str | None = None
        try:
            check_user(user_id)
            request = check_request(voice_name, audio_files, labels, self.settings.max_samples)
            job_progress: Progress | None = None
            if record_job:
                job_id, job_progress = self.jobs.start(user_id, "clone")
            stages = enrollment_stages(_both(job_progress, progress))
            stages.begin("intake", "checking the consent recording" if consent else "checking the samples")
            statement = self._consent_statement(user_id, consent)
            encoder = SpeakerEncoder.load()
            intake = take_samples(request, self.settings, encoder.embed, stages.within("intake"))
            reports = intake.reports
            refuse_unusable(intake, self.settings.min_samples)
            analysis = analyse(intake, statement, encoder.embed, self.settings.min_samples, stages)
            if not allow_duplicate:
                self.voices.refuse_duplicate(user_id, analysis.fingerprint)
            with self._build_lock().hold(
                lambda waited: stages.begin("build", f"{WAITING}… ({waited:.0f} s)")
            ) as waited:
                stages.begin("build", "building the voice model")
                # the deadline counts from when the cores are this build's, not from the wait
                deadline = Deadline.after(self.settings.enroll_seconds, start=t0 + waited)
                model = self.engine.enroll(
                    enroll_samples(analysis), progress=stages.within("build"), mode=mode, deadline=deadline
                )
            model.sample_hashes = [sample_hash(s.samples) for s in intake.accepted]
            result = clone_result(request.name, model, analysis)
            stages.begin("save", "saving")
            consent_file = consent.path if consent else None
            result.voice_id = self.voices.save(
                user_id, request, description, model, result, analysis, consent_file, voice_id
            )
            result.elapsed_s = round(time.perf_counter() - t0, 2)
            stages.done("voice ready")
            if job_id:
                self.jobs.finish(job_id, True, {"voice_id": result.voice_id})
            return result
        except RealVoiceError as exc:
            if job_id:
                self.jobs.finish(job_id, False, {"error": exc.message, "code": exc.code})
            return CloneResult(
                success=False,
                name=str(voice_name),
                sample_reports=reports,
                errors=[exc.message],
                error_code=exc.code,
                recommendations=fix_advice(reports),
                elapsed_s=round(time.perf_counter() - t0, 2),
            )
        except BaseException as exc:  # a bug or an interrupt: the job must still end before it propagates
            if job_id:
                failure = {"error": f"internal error: {type(exc).__name__}", "code": "internal_error"}
                self.jobs.finish(job_id, False, failure)
            raise

    # --- refining a voice --------------------------------------------------------------------------

    async def refine_voice(self, voice_id: str, user_id: str, *, progress: Progress | None = None) -> RefineResult:
        """Fit the voice again from its stored recordings with the thorough mode (minutes), and make the fit
        the voice's next version only if it validates better than the voice as it is.

        The voice keeps speaking as it was until the new version is published; a crash at any point
        leaves it so. One refinement of a voice runs at a time (``refine_running`` otherwise)."""
        return await asyncio.to_thread(self.refine, voice_id, user_id, progress=progress)

    def _build_lock(self) -> BuildLock:
        return BuildLock(self.settings.build_lock_dir or self.settings.home, self.settings.build_wait_seconds)

    def refine(
        self,
        voice_id: str,
        user_id: str,
        *,
        progress: Progress | None = None,
        record_job: bool = True,
        mode: str = REFINE_MODE,
    ) -> RefineResult:
        """Synchronous form of :meth:`refine_voice`; ``record_job`` False leaves the job row to a caller
        that keeps its own (a REST job)."""
        t0 = time.perf_counter()
        job_id: str | None = None
        lease: Lease | None = None
        try:
            row = self._row(voice_id, user_id)
            lease = self._refine_lease(row.id)
            job_progress: Progress | None = None
            if record_job:
                job_id, job_progress = self.jobs.start(user_id, "refine", {"voice_id": row.id})
            encoder = SpeakerEncoder.load()
            told = _both(job_progress, progress)

            def wait_note(waited: float) -> None:
                if told is not None:
                    told(0.0, f"{WAITING}… ({waited:.0f} s)")

            # a refinement is a fit: it takes its turn with the builds on this data folder
            with self._build_lock().hold(wait_note):
                result = refine_stored(self.voices, self.engine, row, encoder.embed, told, mode)
            result.elapsed_s = round(time.perf_counter() - t0, 2)
            if job_id:
                self.jobs.finish(job_id, True, {"voice_id": row.id, "refinement": result.model_dump(mode="json")})
            return result
        except RealVoiceError as exc:
            failed = RefineResult(
                success=False,
                voice_id=str(voice_id),
                errors=[exc.message],
                error_code=exc.code,
                elapsed_s=round(time.perf_counter() - t0, 2),
            )
            if job_id:
                self.jobs.finish(
                    job_id,
                    False,
                    {
                        "voice_id": voice_id,
                        "error": exc.message,
                        "code": exc.code,
                        "refinement": failed.model_dump(mode="json"),
                    },
                )
            return failed
        except BaseException as exc:  # a bug or an interrupt: the job must still end before it propagates
            if job_id:
                failure = {
                    "voice_id": voice_id,
                    "error": f"internal error: {type(exc).__name__}",
                    "code": "internal_error",
                }
                self.jobs.finish(job_id, False, failure)
            raise
        finally:
            if lease is not None:
                lease.release()

    def _refine_lease(self, voice_id: str) -> Lease:
        try:
            return self.leases.hold(refine_lease(voice_id))
        except StorageError:
            raise BusyError(
                "this voice is already being refined; its refinement replaces the voice when it ends "
                "(if it comes out better): wait for it",
                code="refine_running",
                retry_after_s=60,
            ) from None

    def issue_consent_challenge(self, user_id: str, speaker_name: str) -> ConsentChallenge:
        """A consent statement for ``speaker_name`` to read aloud, with a one-time code.

        Record the speaker reading it and pass the recording to :meth:`create_user_voice_clone`."""
        return self.consent_challenges.issue(check_user(user_id), speaker_name)

    def _consent_statement(self, user_id: str, consent: ConsentRecording | None) -> tuple[ConsentRecord, Heard | None]:
        """The consent's first checks, before any work on the samples: the code, then the transcript."""
        if consent is None:
            if self.settings.require_consent_recording:
                raise ConsentError(
                    "A voice needs the speaker's consent: ask for a consent statement, record the speaker "
                    "reading it, and send that recording with the samples.",
                    code="consent_recording_required",
                )
            return ConsentRecord(method="attested"), None
        challenge = consent.redeemed or self.consent_challenges.redeem(user_id, consent.challenge_id)
        heard = hear_recording(consent.path, self.settings)
        return check_statement(heard, challenge), heard

    # --- listing, reading, deleting ----------------------------------------------------------------

    def get_user_voices(self, user_id: str) -> list[VoiceSummary]:
        return self.voices.summaries(user_id)

    def get_user_voice(self, voice_id: str, user_id: str) -> VoiceDetail:
        return self.voices.detail(voice_id, user_id)

    def update_user_voice(
        self, voice_id: str, user_id: str, *, name: str | None = None, description: str | None = None
    ) -> VoiceDetail:
        """Rename the voice or change its description (None leaves a field as it is); the voice as it now is."""
        return self.voices.update(voice_id, user_id, name=name, description=description)

    def voice_report_plot(self, voice_id: str, user_id: str) -> Path:
        """The PNG with the voice's pitch histogram, per-sample quality and speaker consistency."""
        return self.voices.report_plot(voice_id, user_id)

    def verify_speaker(self, voice_id: str, clip: str | Path, user_id: str) -> dict[str, Any]:
        """Is ``clip`` the same speaker as the stored voice? Returns the similarity and a decision."""
        from .audio import decode

        row = self._row(voice_id, user_id)
        audio = decode(clip, max_bytes=self.settings.max_upload_bytes, max_seconds=self.settings.max_sample_seconds)
        emb = SpeakerEncoder.load().embed(audio.samples, audio.sample_rate)
        score = float(np.dot(emb, np.asarray(row.embedding, np.float32)))
        return {
            "voice_id": row.id,
            "similarity": round(score, 4),
            "same_speaker": score >= SAME_SPEAKER,
            "threshold": SAME_SPEAKER,
        }

    async def verify(self, voice_id: str, clip: str | Path, user_id: str) -> dict[str, Any]:
        return await asyncio.to_thread(self.verify_speaker, voice_id, clip, user_id)

    def delete_user_voice(self, voice_id: str, user_id: str) -> bool:
        """Remove the voice's rows and every file; False if the user has no such voice."""
        return self.voices.delete(voice_id, user_id)

    # --- pronunciation dictionary -------------------------------------------------------------

    def set_pronunciation(self, user_id: str, word: str, say_as: str) -> None:
        """Teach the user's voices a word: a respelling ("win") or phonemes between slashes ("/ŋwˈɪn/")."""
        self.lexicon.set(check_user(user_id), word, say_as)

    def get_pronunciations(self, user_id: str) -> dict[str, str]:
        return self.lexicon.words(check_user(user_id))

    def delete_pronunciation(self, user_id: str, word: str) -> bool:
        return self.lexicon.delete(check_user(user_id), word)

    # --- speaking ------------------------------------------------------------------------------

    def _speaking(self, voice_id: str, user_id: str) -> Resolve:
        """The user's voice with its model and the user's dictionary, resolved when the renderer asks."""

        def resolve() -> SpeakingVoice:
            row = self._row(voice_id, user_id)
            return SpeakingVoice(row.id, self._voice_model(row), self.get_pronunciations(user_id))

        return resolve

    def stream_user_speech(
        self,
        voice_id: str,
        text: str,
        user_id: str,
        *,
        speed: float = 1.0,
        pause_scale: float = 1.0,
        pitch_semitones: float = 0.0,
        progress: Progress | None = None,
        split_first: bool = True,
        max_chars: int | None = None,
    ) -> Iterator[Chunk]:
        """Sentence-by-sentence audio chunks (a generator), for streaming; ``split_first`` speaks the
        first few words on their own so the first audio arrives sooner."""
        voice = self._speaking(voice_id, user_id)()
        controls = Controls(speed, pause_scale, pitch_semitones)
        return self.speech.stream(
            voice, text, controls, progress=progress, split_first=split_first, max_chars=max_chars
        )

    async def stream_user_cloned_speech(
        self, voice_id: str, text: str, user_id: str, **kwargs: Any
    ) -> AsyncIterator[Chunk]:
        """Async generator of audio chunks (24 kHz float32), one per sentence, as each is ready."""
        chunks = await asyncio.to_thread(self.stream_user_speech, voice_id, text, user_id, **kwargs)
        done = object()
        while True:
            chunk = await asyncio.to_thread(next, chunks, done)
            if chunk is done:
                return
            yield chunk  # type: ignore[misc]

    def open_speech_stream(
        self,
        voice_id: str,
        text: str,
        user_id: str,
        *,
        format: str = "mp3",
        speed: float = 1.0,
        pause_scale: float = 1.0,
        pitch_semitones: float = 0.0,
        effects: Any = None,
        background_music: bool | str = False,
        progress: Progress | None = None,
    ) -> SpeechStream:
        """Encoded speech, sentence by sentence (iterate it; close it to stop the synthesis).

        Everything is checked before the first sentence is made: a bad request raises here.
        ``background_music`` is False, True (the default bed) or a bed's name; never a path.
        """
        return self.speech.open_stream(
            self._speaking(voice_id, user_id),
            text,
            Controls(speed, pause_scale, pitch_semitones),
            format=format,
            effects=effects,
            background_music=background_music,
            progress=progress,
        )

    def render(
        self,
        voice_id: str,
        text: str,
        user_id: str,
        *,
        output_path: str | Path | None = None,
        speed: float = 1.0,
        pause_scale: float = 1.0,
        pitch_semitones: float = 0.0,
        background_music: bool | str | Path = False,
        effects: Any = None,
        progress: Progress | None = None,
        max_chars: int | None = None,
    ) -> SpeechResult:
        """Speak ``text`` in the voice, add music and effects, and write the file; never a traceback.

        ``max_chars`` raises the text limit for background jobs (``settings.max_job_text_chars``)."""
        return self.speech.render(
            self._speaking(voice_id, user_id),
            text,
            Controls(speed, pause_scale, pitch_semitones),
            Path(output_path) if output_path else None,
            lambda: self._output_path(user_id),
            background_music=background_music,
            effects=effects,
            progress=progress,
            max_chars=max_chars,
            voice_id=voice_id,
        )

    def check_speech_request(
        self,
        voice_id: str,
        user_id: str,
        *,
        output_path: str | Path | None = None,
        speed: float = 1.0,
        pitch_semitones: float = 0.0,
        pause_scale: float = 1.0,
        background_music: bool | str | Path = False,
        effects: Any = None,
    ) -> None:
        """Raise what :meth:`render` would fail on, before any speech is made (a front end calls it
        before it shows progress): an unknown voice, a control out of range, an unknown effect or
        music, an output format that cannot be written."""
        controls = Controls(speed, pause_scale, pitch_semitones)
        path = Path(output_path) if output_path else None
        self.speech.prepare(self._speaking(voice_id, user_id), path, controls, background_music, effects)

    def _output_path(self, user_id: str) -> Path:
        folder = self.settings.outputs_dir / _user_folder(user_id)
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{new_id()[:8]}.wav"

    async def generate_user_cloned_speech(self, voice_id: str, text: str, user_id: str, **kwargs: Any) -> SpeechResult:
        """Speak ``text`` in the user's voice into a WAV file (24 kHz, 16-bit)."""
        return await asyncio.to_thread(self.render, voice_id, text, user_id, **kwargs)

    async def preview_voice(self, voice_id: str, user_id: str, **kwargs: Any) -> SpeechResult:
        return await self.generate_user_cloned_speech(voice_id, PREVIEW_TEXT, user_id, **kwargs)

    def close(self) -> None:
        self.db.dispose()


def _both(first: Progress | None, second: Progress | None) -> Progress | None:
    """One progress callback that reports to both (either may be None)."""
    if first is None or second is None:
        return first or second

    def report(fraction: float, message: str) -> None:
        first(fraction, message)
        second(fraction, message)

    return report
