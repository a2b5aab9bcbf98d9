"""Speech streams over HTTP: a ``SpeechStream`` pumped into a chunked response, one sentence at a time.

Each sentence is made in the thread pool in a render slot, so streams and file renders share the CPU
fairly. The first sentence is made before the response starts: a full render line is answered 503
(problem+json with Retry-After), never a stream cut off at its first byte; once admitted, a stream's
later sentences wait their turn without a bound. When the client goes away the response stops asking
for sentences and the stream is cancelled: the sentence being made finishes and no later one is started.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from ..streaming import SpeechStream
from .deps import ApiState

_DONE = object()


def _next_in_slot(state: ApiState, stream: SpeechStream, admitted: bool) -> object:
    with state.renders.slot(admitted=admitted):
        return next(stream, _DONE)


async def _pump(state: ApiState, stream: SpeechStream, first: object) -> AsyncIterator[bytes]:
    try:
        data = first
        while data is not _DONE:
            assert isinstance(data, bytes)
            yield data
            data = await run_in_threadpool(_next_in_slot, state, stream, True)
    finally:
        stream.cancel()  # a disconnect lands here while a sentence may still be in the pool: only flag it


async def stream_response(
    state: ApiState, stream: SpeechStream, headers: dict[str, str] | None = None
) -> StreamingResponse:
    """The stream as a chunked response; ``X-Sentences`` says how many sentences it will speak."""
    try:
        first = await run_in_threadpool(_next_in_slot, state, stream, False)
    except BaseException:
        stream.cancel()
        raise
    return StreamingResponse(
        _pump(state, stream, first),
        media_type=stream.media_type,
        headers={
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",  # proxies must not hold the chunks back
            "X-Sentences": str(stream.sentences),
            "X-Sample-Rate": str(stream.sample_rate),
        }
        | (headers or {}),
    )
