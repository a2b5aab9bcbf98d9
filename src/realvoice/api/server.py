"""``realvoice serve``: the API and the web page under uvicorn."""

from __future__ import annotations


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serve until interrupted, in ``workers`` processes. Several processes share every limit and job
    through the database (and Redis, where configured); each keeps its own render slots and preview locks."""
    import uvicorn

    if workers > 1:
        uvicorn.run(
            "realvoice.api.app:create_app",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level="info",
            proxy_headers=True,
        )
        return
    from .app import create_app

    uvicorn.run(create_app(), host=host, port=port, log_level="info", proxy_headers=True)
