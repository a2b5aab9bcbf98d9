"""Making jobs from requests: a slot and a row first, then the inputs where every worker can read them."""

from __future__ import annotations

from ..consent import ConsentRecording
from ..jobs import JobQueue, JobSlots, SpeechRender, UploadedSample, VoiceBuild, VoiceRefine
from ..jobs.records import RedeemedConsent
from ..service import RealVoiceCloningService
from ..store.blobs import new_id
from ..store.leases import Lease
from .schemas import SpeechJobRequest
from .uploads import UploadForm

KIND = "voice"
SPEECH_KIND = "speech"
REFINE_KIND = "refine"


class JobStarter:
    """Reserves the user's slot (the job's row), saves what the job needs, and hands it to the queue."""

    def __init__(self, service: RealVoiceCloningService, slots: JobSlots, queue: JobQueue) -> None:
        self.service, self.slots, self.queue = service, slots, queue

    def reserve(self, user_id: str, kind: str, message: str = "queued") -> tuple[str, Lease]:
        """The job's row in one of the user's slots, and its lease, held until the queue has the job."""
        job_id = self.slots.reserve(user_id, kind, message)
        try:
            return job_id, self.service.leases.hold(f"job-{job_id}")
        except BaseException:
            self.slots.cancel(job_id)
            raise

    def abandon(self, job_id: str, lease: Lease) -> None:
        """The request failed before its job could start: no row, no slot, no files."""
        self.slots.cancel(job_id)
        lease.release()

    def start_voice(
        self,
        job_id: str,
        lease: Lease,
        name: str,
        description: str,
        form: UploadForm,
        *,
        allow_duplicate: bool = False,
        consent: ConsentRecording | None = None,
    ) -> None:
        """Move the upload into the job's folder, store the build's request, and queue it."""
        folder = self.service.settings.jobs_dir / job_id
        folder.parent.mkdir(parents=True, exist_ok=True)
        form.folder.rename(folder)
        form.folder = folder
        if form.lease is not None:
            form.lease.release()  # the folder is the job's now: the janitor keeps it while the job is unfinished
            form.lease = None
        request = VoiceBuild(
            queue=self.queue.owner,
            voice_id=new_id(),
            name=name,
            description=description,
            files=[UploadedSample(file=f.path.name, label=f.label) for f in form.files],
            allow_duplicate=allow_duplicate,
            consent=RedeemedConsent(challenge_id=consent.challenge_id, recording=consent.path.name)
            if consent
            else None,
        )
        self._submit(job_id, lease, request.model_dump(mode="json"))

    def start_speech(self, user_id: str, voice_id: str, body: SpeechJobRequest) -> str:
        """Queue a long render in one of the user's job slots; returns the job id."""
        job_id, lease = self.reserve(user_id, SPEECH_KIND)
        # the history stays bounded: the oldest ended renders (rows and files) make room for this one
        self.service.jobs.prune(user_id, SPEECH_KIND, keep=self.service.settings.speech_history)
        request = SpeechRender(queue=self.queue.owner, voice_id=voice_id, **body.model_dump(mode="json"))
        try:
            self._submit(job_id, lease, request.model_dump(mode="json"))
        except BaseException:
            self.abandon(job_id, lease)
            raise
        return job_id

    def start_refine(self, user_id: str, voice_id: str) -> str:
        """Queue a refinement of the voice in one of the user's job slots (one per voice at a time)."""
        job_id = self.slots.reserve(user_id, REFINE_KIND, "queued", voice_id=voice_id)
        try:
            lease = self.service.leases.hold(f"job-{job_id}")
        except BaseException:
            self.slots.cancel(job_id)
            raise
        try:
            self._submit(job_id, lease, VoiceRefine(queue=self.queue.owner, voice_id=voice_id).model_dump(mode="json"))
        except BaseException:
            self.abandon(job_id, lease)
            raise
        return job_id

    def _submit(self, job_id: str, lease: Lease, request: dict) -> None:
        # A speech job's result names its voice from the start, so deleting the voice finds the job.
        known = {"result": {"voice_id": request["voice_id"]}} if request["kind"] == SPEECH_KIND else {}
        self.service.jobs.update(job_id, request=request, **known)
        self.queue.submit(job_id, lease)

    def shutdown(self) -> None:
        self.queue.shutdown()
