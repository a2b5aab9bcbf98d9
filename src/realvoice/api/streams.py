"""Speech streams over HTTP: a ``SpeechStream`` pumped into a chunked response, one sentence at a time.

Each sentence is made in the thread pool under the render gate, so streams and file renders share the
CPU fairly. When the client goes away the response stops asking for sentences and the stream is
cancelled: the sentence being made finishes and no later one is started.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from ..streaming import SpeechStream
from .deps import ApiState

_DONE = object()


def _next_gated(state: ApiState, stream: SpeechStream) -> object:
    with state.render_gate:
        return next(stream, _DONE)


async def _pump(state: ApiState, stream: SpeechStream) -> AsyncIterator[bytes]:
    try:
        while True:
            data = await run_in_threadpool(_next_gated, state, stream)
            if data is _DONE:
                return
            assert isinstance(data, bytes)
            yield data
    finally:
        stream.cancel()  # a disconnect lands here while a sentence may still be in the pool: only flag it


def stream_response(state: ApiState, stream: SpeechStream, headers: dict[str, str] | None = None) -> StreamingResponse:
    """The stream as a chunked response; ``X-Sentences`` says how many sentences it will speak."""
    return StreamingResponse(
        _pump(state, stream),
        media_type=stream.media_type,
        headers={
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",  # proxies must not hold the chunks back
            "X-Sentences": str(stream.sentences),
            "X-Sample-Rate": str(stream.sample_rate),
        }
        | (headers or {}),
    )
