"""Background work (voice builds, refinements, long renders): a job row says what to do, a queue says who does it.

Without a broker the API process runs jobs in its own threads; with ``REALVOICE_BROKER_URL`` they go
to Celery and any ``realvoice worker`` runs them, each job from its id alone (see ``work.py``).
"""

from .queue import JobQueue, ThreadQueue, make_queue
from .records import JobRequest, SpeechRender, UploadedSample, VoiceBuild, VoiceRefine
from .slots import JobSlots
from .work import JobWork

__all__ = [
    "JobQueue",
    "JobRequest",
    "JobSlots",
    "JobWork",
    "SpeechRender",
    "ThreadQueue",
    "UploadedSample",
    "VoiceBuild",
    "VoiceRefine",
    "make_queue",
]
