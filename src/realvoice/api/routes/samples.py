"""Check one recording the way a voice build would, without creating anything."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from ...errors import InvalidInputError
from ...models import SampleReport
from ...samples import take_in
from ..deps import CurrentUser, StateDep
from ..errors import problem_responses
from ..uploads import one_file, read_upload

router = APIRouter(prefix="/v1/samples", tags=["samples"], responses=problem_responses(401, 429))

CHECK_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@router.post(
    "/check", response_model=SampleReport, openapi_extra=CHECK_FORM, responses=problem_responses(413, 415, 422)
)
async def check_sample(request: Request, user: CurrentUser, state: StateDep) -> SampleReport:
    """The verdict on one clip (accepted or not, and why), with its measurements; nothing is stored."""
    settings = state.service.settings
    form = await read_upload(request, settings.uploads_dir, one_file(settings.max_upload_bytes), state.service.leases)
    try:
        if not form.files:
            raise InvalidInputError("send one recording in the form field 'file'", code="no_samples")
        upload = form.files[0]
        intake = await run_in_threadpool(
            take_in,
            [upload.path],
            max_bytes=settings.max_upload_bytes,
            max_seconds=settings.max_sample_seconds,
            min_speech_s=settings.min_speech_seconds,
        )
    finally:
        form.cleanup()
    report = intake.reports[0]
    report.file = upload.label
    report.reasons = [r.replace(upload.path.name, upload.label) for r in report.reasons]
    for issue in report.issues:
        issue.message = issue.message.replace(upload.path.name, upload.label)
    return report
