"""Settings in one typed object, read from ``REALVOICE_*`` environment variables."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path(user_data_dir("realvoice", appauthor=False))


class Settings(BaseSettings):
    """Where data lives, which engine speaks, and the limits every input is held to."""

    model_config = SettingsConfigDict(env_prefix="REALVOICE_", extra="ignore")

    home: Path = Field(default_factory=_default_home)  # the data folder: database, voices, outputs
    database_url: str | None = None  # e.g. postgresql+psycopg://user:password@host/realvoice
    # Upgrade the database schema when a process starts; off, a database behind this release is
    # refused until `realvoice db upgrade` has run (for deployments that migrate in their own step).
    migrate_on_start: bool = True
    # A Celery broker (redis://host:6379/0): voice builds and long renders go to `realvoice worker`
    # processes. Unset, the API process runs them in its own threads.
    broker_url: str | None = None
    # How long a worker may hold a job before the broker hands it to another worker; a job still
    # running then is not run twice (its lease says so), so this bounds how late a dead worker's job restarts.
    task_visibility_s: float = Field(default=120.0, ge=5.0)
    engine: Literal["kokoro"] = "kokoro"  # the speech engine (one ships)
    # "fast" (about a minute), "style", "thorough" (minutes), "nearest-stock" (no fit); "adapters" is
    # the old name of "fast"
    fit_mode: Literal["fast", "style", "adapters", "thorough", "nearest-stock"] = "fast"
    threads: int = 0  # 0: one per core
    # Where the assembled speech models live, one copy per machine (files named by content hash, so
    # homes can share it); unset: the user's cache folder.
    model_cache: Path | None = None
    # "auto": OpenVINO's decoder where its CPU device runs, else onnxruntime's int8 graph.
    kokoro_runtime: Literal["auto", "openvino", "onnxruntime"] = "auto"
    # Opt-in static-int8 vocoder graphs on onnxruntime ("c1", "rb"): faster, but fitted voices lose
    # identity (docs/cloning.md). REALVOICE_KOKORO_FAST is its old name.
    kokoro_static_int8: Literal["", "c1", "rb"] = Field(
        default="", validation_alias=AliasChoices("REALVOICE_KOKORO_STATIC_INT8", "REALVOICE_KOKORO_FAST")
    )
    # A fast-mode voice is ready this many seconds after its samples arrive: the fit gets what is left
    # once the samples are checked, analysed and transcribed (less on a process's first, colder call).
    # Time spent waiting for another build's fit (one fit at a time per data folder) is not counted.
    enroll_seconds: float = 58.5
    # How long a build waits for another build's fit on the same data folder before it gives up.
    build_wait_seconds: float = Field(default=1800.0, gt=0)
    # Where the lock that lets one fit run at a time lives; unset, in the data folder. Machines that
    # share a data folder each set a folder of their own, so that each fits one voice at a time.
    build_lock_dir: Path | None = None

    max_upload_bytes: int = 50 * 1024 * 1024  # one sample file
    max_sample_seconds: float = 300.0  # one sample's length
    max_samples: int = 50  # sample files per voice
    min_samples: int = 5  # usable samples a voice needs
    min_speech_seconds: float = 1.0  # speech a sample must hold to be usable
    max_text_chars: int = 10_000  # text spoken in one request (longer texts: a speech job)
    # A voice needs a checked recording of the speaker reading the consent statement; off, the caller's
    # word is recorded instead ("attested"). ``realvoice serve`` turns it on unless told otherwise.
    require_consent_recording: bool = False
    consent_code_seconds: float = Field(default=900.0, gt=0)  # how long a consent code can be used
    max_job_text_chars: int = 200_000  # a speech job (a whole book chapter) is rendered in the background
    # Speech jobs a user keeps (the page's history); a new one deletes the oldest ended ones beyond it,
    # so a user's renders cannot fill the disk.
    speech_history: int = Field(default=50, ge=1)
    # Every file and stream comes out at this loudness and true-peak ceiling (the podcast and
    # streaming norm) unless the request has its own normalize effect.
    output_lufs: float = Field(default=-16.0, ge=-40.0, le=-6.0)
    output_true_peak_db: float = Field(default=-1.0, ge=-12.0, le=0.0)  # the ceiling, in dBTP

    @cached_property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'realvoice.db'}"

    @property
    def voices_dir(self) -> Path:
        return self.home / "voices"

    @property
    def uploads_dir(self) -> Path:
        return self.home / "uploads"

    @property
    def leases_dir(self) -> Path:
        return self.home / "leases"

    @property
    def staging_dir(self) -> Path:
        return self.home / "staging"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def outputs_dir(self) -> Path:
        return self.home / "outputs"

    @property
    def jobs_dir(self) -> Path:
        return self.home / "jobs"

    @property
    def renders_dir(self) -> Path:
        return self.home / "renders"
