"""Is a file realvoice speech? Any signed-in user may ask; no voice is needed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from ...errors import InvalidInputError
from ...provenance.detect import DetectionReport, detect_file
from ..deps import CurrentUser, StateDep
from ..errors import problem_responses
from ..uploads import one_file, read_upload
from .samples import CHECK_FORM

router = APIRouter(prefix="/v1", tags=["provenance"], responses=problem_responses(401, 429))


@router.post(
    "/detect", response_model=DetectionReport, openapi_extra=CHECK_FORM, responses=problem_responses(413, 415, 422)
)
async def detect(request: Request, user: CurrentUser, state: StateDep) -> DetectionReport:
    """Whether the recording in the form field ``file`` carries realvoice's watermark, with the
    detector's confidence and the file's provenance tag where it kept one; nothing is stored."""
    settings = state.service.settings
    form = await read_upload(request, settings.uploads_dir, one_file(settings.max_upload_bytes), state.service.leases)
    try:
        if not form.files:
            raise InvalidInputError("send one recording in the form field 'file'", code="no_file")
        upload = form.files[0]
        return await run_in_threadpool(
            detect_file,
            upload.path,
            max_bytes=settings.max_upload_bytes,
            max_seconds=settings.max_sample_seconds * 12,
            label=upload.label,
        )
    finally:
        form.cleanup()
