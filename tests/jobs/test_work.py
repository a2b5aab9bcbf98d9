"""Running a job from its row (what a job thread, a job process or a worker does)."""

from __future__ import annotations

import pytest

from realvoice.jobs import SpeechRender
from realvoice.jobs.slots import JobSlots
from realvoice.jobs.work import JobWork

pytestmark = pytest.mark.slow


def test_a_voice_deleted_while_its_speech_job_renders_leaves_no_trace(service, piper_samples, monkeypatch):
    voice = service.create_voice("fay", "Gone", piper_samples, allow_duplicate=True, mode="nearest-stock")
    assert voice.success, voice.errors
    job_id = JobSlots(service.db, per_user=2).reserve("fay", "speech")
    request = SpeechRender(queue="local", voice_id=voice.voice_id, text="Spoken while the voice goes.", format="wav")
    service.jobs.update(job_id, request=request.model_dump(mode="json"))
    render = service.render

    def render_then_delete(*args, **kwargs):
        done = render(*args, **kwargs)  # the file is written ...
        assert service.delete_user_voice(voice.voice_id, "fay")  # ... and the voice deleted before the job ends
        return done

    monkeypatch.setattr(service, "render", render_then_delete)
    JobWork(service).run(job_id)
    assert not (service.settings.renders_dir / job_id).exists()
    assert service.get_user_voices("fay") == []
    with pytest.raises(Exception, match="not found"):
        service.jobs.get(job_id, "fay")
