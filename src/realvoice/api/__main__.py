"""``python -m realvoice.api [HOST] [PORT]``: the same as ``realvoice serve``."""

from __future__ import annotations

import sys

from .server import serve

if __name__ == "__main__":
    args = sys.argv[1:]
    serve(args[0] if args else "127.0.0.1", int(args[1]) if len(args) > 1 else 8000)
