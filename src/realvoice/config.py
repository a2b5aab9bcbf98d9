"""Settings in one typed object, read from ``REALVOICE_*`` environment variables."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path(user_data_dir("realvoice", appauthor=False))


class Settings(BaseSettings):
    """Where data lives, which engine speaks, and the limits every input is held to."""

    model_config = SettingsConfigDict(env_prefix="REALVOICE_", extra="ignore")

    home: Path = Field(default_factory=_default_home)
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
    engine: str = "kokoro"
    fit_mode: str = "fast"  # "fast" (about a minute), "style", "thorough" (minutes), "nearest-stock" (no fit)
    threads: int = 0  # 0: one per core
    # A fast-mode voice is ready this many seconds after its samples arrive: the fit gets what is left
    # once the samples are checked, analysed and transcribed (less on a process's first, colder call).
    enroll_seconds: float = 58.5

    max_upload_bytes: int = 50 * 1024 * 1024
    max_sample_seconds: float = 300.0
    max_samples: int = 50
    min_samples: int = 5
    min_speech_seconds: float = 1.0
    max_text_chars: int = 10_000
    # A voice needs a checked recording of the speaker reading the consent statement; off, the caller's
    # word is recorded instead ("attested"). ``realvoice serve`` turns it on unless told otherwise.
    require_consent_recording: bool = False
    consent_code_seconds: float = Field(default=900.0, gt=0)  # how long a consent code can be used
    max_job_text_chars: int = 200_000  # a speech job (a whole book chapter) is rendered in the background
    # Every file and stream comes out at this loudness and true-peak ceiling (the podcast and
    # streaming norm) unless the request has its own normalize effect.
    output_lufs: float = Field(default=-16.0, ge=-40.0, le=-6.0)
    output_true_peak_db: float = Field(default=-1.0, ge=-12.0, le=0.0)

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
