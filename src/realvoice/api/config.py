"""Limits and sizes that only the web API has, read from ``REALVOICE_API_*`` environment variables."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """How much one key may ask for, and how many voices are built at once."""

    model_config = SettingsConfigDict(env_prefix="REALVOICE_API_", extra="ignore")

    requests_per_minute: int = 120  # per API key, every authenticated request counts
    bad_keys_per_minute: int = 20  # per client address: requests with a missing or wrong key
    jobs_per_user: int = 2  # voices being built at once for one user
    workers: int = 1  # voices built at once in the whole process (the CPU is the limit)
    # Each job (a voice build, a long render) in a child process, so the memory a build loads goes back
    # to the system when it ends; false runs jobs in the server's threads (tests that patch the engine).
    jobs_in_child_processes: bool = True
    renders: int = 2  # speech and previews rendered at once; more requests wait their turn
    render_queue: int = 8  # requests that may wait for a render; more are answered 503 with Retry-After
    render_wait_s: float = 30.0  # longest wait in that line before the same 503
    max_voice_upload_bytes: int = 500 * 1024 * 1024  # all the files of one voice together
    max_json_bytes: int = 256 * 1024  # request bodies that are not uploads
    preview_cache: bool = True  # keep each voice's preview once rendered
    sse_interval_s: float = 0.5  # how often the events stream looks at a job
    sse_keepalive_s: float = 15.0  # a comment line on an idle events stream, so proxies keep it open
