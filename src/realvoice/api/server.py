"""``realvoice serve``: the API and the web page under uvicorn."""

from __future__ import annotations


def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve until interrupted; one process, since voice builds and previews are kept in its memory."""
    import uvicorn

    from .app import create_app

    uvicorn.run(create_app(), host=host, port=port, log_level="info", proxy_headers=True)
