"""The web API: ``create_app()`` builds the FastAPI app; ``serve()`` runs it under uvicorn."""

from .app import create_app
from .server import serve

__all__ = ["create_app", "serve"]
