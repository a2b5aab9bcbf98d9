"""Every error code the package can answer with, and what it means: the one registry.

Each ``RealVoiceError`` carries one of these codes; the REST API sends it as ``code`` in its
problem+json body. tests/test_error_codes.py checks that every code used in ``src`` is here, and
that docs/errors.md is this table (``python -m realvoice.error_codes > docs/errors.md``).
"""

from __future__ import annotations

ERROR_CODES: dict[str, str] = {
    # general
    "error": "an error with no more specific code",
    "internal_error": "a bug on the server's side; it is logged",
    "invalid_input": "a parameter is malformed",
    "limit_exceeded": "an input is larger or longer than the limits allow",
    "storage": "a voice's files could not be read or written",
    "model_file": "a voice model file is unreadable or of an unknown version",
    "engine": "the speech engine failed",
    "engine_assets": "the speech model's files are missing or could not be opened",
    "schema_out_of_date": "the database is older than this release: run `realvoice db upgrade`",
    # users, keys and limits
    "bad_user_id": "a user id with characters other than letters, digits and . _ @ -",
    "no_api_key": "the request has no API key",
    "bad_api_key": "the API key is unknown or revoked",
    "busy": "too much is running for this user now; retry after Retry-After",
    "too_many_jobs": "this user already has as many builds or renders running as allowed",
    "rate_limited": "too many requests in a minute; retry after Retry-After",
    "server_busy": "the server's speech queue is full; retry after Retry-After",
    "build_wait_timeout": "another voice build on the same data folder ran too long to wait for",
    # REST requests
    "validation_error": "the request body or a parameter does not match the API's schema",
    "not_found": "no route at this path",
    "method_not_allowed": "the route does not take this HTTP method",
    "http_error": "an HTTP error with no more specific code",
    "body_too_large": "the request body is larger than the server accepts",
    "unsupported_media_type": "uploads must be multipart/form-data",
    "bad_multipart": "the multipart body is malformed or its names cannot be decoded",
    "missing_filename": "a file part has no file name",
    "too_many_fields": "the form has more fields than a voice build needs",
    "field_too_long": "a form field is longer than allowed",
    "upload_too_large": "the upload is larger than the limit",
    "no_file": "the recording to check is missing from the form",
    # voices and samples
    "voice_not_found": "no voice with this id belongs to this user",
    "duplicate_voice": "this user already has a voice made from the same recordings",
    "bad_voice_name": "the voice name is empty or longer than 100 characters",
    "bad_description": "the description is longer than 2000 characters",
    "bad_labels": "the number of sample labels differs from the number of files",
    "too_many_files": "more sample files than a voice may have",
    "invalid_sample": "a recording cannot be used as a voice sample",
    "not_enough_samples": "fewer usable recordings than a voice needs",
    "mixed_speakers": "the recordings are of two people",
    "no_samples": "a voice was asked for with no samples",
    "bad_fit_mode": "an unknown fit mode",
    "bad_runtime": "an unknown Kokoro runtime",
    "bad_static_int8_variant": "an unknown static-int8 graph variant",
    "refine_running": "the voice is being refined already; one refinement of a voice runs at a time",
    "no_stored_samples": "the voice's cleaned recordings are missing, so it cannot be refined",
    # decoding an upload
    "unreadable": "the file cannot be read, or is too small to hold audio",
    "empty_file": "the file is empty",
    "file_too_large": "the file is larger than the upload limit",
    "unsupported_format": "the file is not audio in a format the decoder knows",
    "no_audio_stream": "the file holds no audio stream",
    "corrupt": "the audio data is corrupt or truncated",
    "empty_audio": "the file decodes to no audio at all",
    "too_long": "the recording is longer than the limit",
    # consent
    "consent_failed": "the consent could not be confirmed",
    "consent_required": "a voice over the API needs a consent recording and its code",
    "consent_incomplete": "a consent recording was sent without its code, or a code without a recording",
    "consent_recording_required": "this server refuses voices without a consent recording",
    "consent_recording_unusable": "the consent recording cannot be heard (too short, silent or unreadable)",
    "consent_recording_generated": "the consent recording carries our watermark: it is generated speech",
    "consent_code_unknown": "the consent code was not issued to this user",
    "consent_code_expired": "the consent code has expired or was already used",
    "consent_code_mismatch": "the code read aloud differs from the one issued",
    "consent_statement_mismatch": "the recording does not say the consent statement",
    "consent_speaker_mismatch": "the person reading the consent is not the person in the samples",
    "bad_speaker_name": "the name for the consent statement is empty or too long",
    # speech
    "empty_text": "no text was given",
    "nothing_to_speak": "the text has no words to speak",
    "text_too_long": "the text is longer than the limit (long texts go to a speech job)",
    "bad_speed": "speed outside 0.5-2",
    "bad_pitch": "pitch shift outside ±4 semitones",
    "bad_pause": "pause scale outside 0-3",
    "bad_format": "an unknown output or stream format",
    "bad_stream_format": "the OpenAI-compatible route streams audio only",
    "bad_model": "an unknown model name on the OpenAI-compatible route",
    "unknown_effect": "an unknown effect or preset name",
    "bad_effect_value": "an effect's amount is not a number in its range",
    "bad_music": "an unknown music bed",
    "unknown_music": "an unknown music bed",
    "bad_word": "a pronunciation entry's word or spelling is not allowed",
    # jobs
    "job_not_found": "no job with this id belongs to this user",
    "job_running": "the job has not ended; delete it when it has",
    "no_audio": "the job has no audio (a voice build, or not finished)",
    "audio_gone": "the job's audio was deleted with its voice",
    "preview_failed": "the voice's preview could not be rendered",
    "speech_failed": "speech could not be rendered, for no more specific reason",
}


def markdown_table() -> str:
    lines = [
        "# Error codes",
        "",
        "Every error the Python API raises and the REST API answers carries one of these codes",
        "(`RealVoiceError.code`; `code` in the REST API's problem+json body). Generated from",
        "`src/realvoice/error_codes.py`: `python -m realvoice.error_codes > docs/errors.md`.",
        "",
        "| code | meaning |",
        "|---|---|",
    ]
    lines += [f"| `{code}` | {meaning} |" for code, meaning in ERROR_CODES.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
