"""Read a multipart upload straight to disk, one capped file per part, under names we make ourselves.

The body is parsed as it arrives (never held whole in memory) and refused the moment a file, the file
count or the total passes its limit. A client's filename is kept only as a label: what reaches the
filesystem is ``NN-slug.ext``, with the slug reduced to ``[A-Za-z0-9_-]`` and the extension to a
known audio one.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import unquote_to_bytes

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from ..errors import InvalidInputError, LimitExceededError
from ..store.blobs import new_id
from ..store.leases import Lease, Leases
from .errors import ApiError

AUDIO_SUFFIXES = frozenset(
    (".wav", ".wave", ".mp3", ".m4a", ".mp4", ".aac", ".ogg", ".oga", ".opus", ".webm", ".weba", ".flac")
    + (".aif", ".aiff", ".caf", ".amr", ".3gp", ".wma", ".mka")
)
_TYPE_SUFFIX = {
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/wave": ".wav",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "audio/ogg": ".ogg",
    "audio/webm": ".webm",
    "video/webm": ".webm",
    "audio/flac": ".flac",
}


@dataclass
class UploadedFile:
    """One file of the upload: where we saved it, and the name the client gave it (a label only)."""

    label: str
    path: Path
    size: int = 0
    content_type: str = ""
    field: str = "files"


@dataclass
class UploadForm:
    """The form's text fields and saved files; ``cleanup()`` removes the folder they live in."""

    folder: Path
    lease: Lease | None = None
    fields: dict[str, str] = field(default_factory=dict)
    files: list[UploadedFile] = field(default_factory=list)
    extra_files: dict[str, UploadedFile] = field(default_factory=dict)  # one file each of Limits.extra_file_fields

    def cleanup(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        if self.lease is not None:
            self.lease.release()


_EXTENDED = re.compile(rb"""filename\*\s*=\s*"?([^";]+)""", re.IGNORECASE)


def _extended(disposition: bytes) -> bytes | None:
    """An RFC 5987 ``filename*`` (``UTF-8''%C3%BC.wav``) as the UTF-8 bytes of the name, or None."""
    match = _EXTENDED.search(disposition)
    value = match.group(1).strip() if match else b""
    if value.count(b"'") < 2:
        return None
    charset, _, rest = value.partition(b"'")
    _, _, encoded = rest.partition(b"'")
    try:
        return unquote_to_bytes(encoded).decode(charset.decode("ascii") or "utf-8").encode("utf-8")
    except (LookupError, UnicodeDecodeError):
        return None


def label_of(filename: str | None) -> str:
    """The client's file name for display: last path part, printable characters, at most 200."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[:200] or "sample"


def safe_name(position: int, label: str, content_type: str = "") -> str:
    """A file name made by us: ``03-my-take.wav``; nothing of the label survives but ``[A-Za-z0-9_-]``."""
    stem, dot, ext = label.rpartition(".")
    suffix = f".{ext.lower()}" if dot and f".{ext.lower()}" in AUDIO_SUFFIXES else ""
    if not suffix:
        stem = label
        suffix = _TYPE_SUFFIX.get(content_type.split(";")[0].strip().lower(), ".bin")
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", ascii_stem).strip("-_")[:40] or "sample"
    return f"{position:02d}-{slug}{suffix}"


@dataclass
class Limits:
    max_files: int
    max_file_bytes: int
    max_total_bytes: int
    file_field: str = "files"
    extra_file_fields: tuple[str, ...] = ()  # other file parts, one file each (a consent recording)
    max_fields: int = 16
    max_field_bytes: int = 4096


def one_file(max_file_bytes: int) -> Limits:
    """A form with one recording in the field ``file`` (a check or a detection, nothing stored)."""
    return Limits(
        max_files=1, max_file_bytes=max_file_bytes, max_total_bytes=max_file_bytes + 64 * 1024, file_field="file"
    )


class _Reader:
    """The parser's callbacks: headers pick a file or a field, data goes to disk or a small buffer."""

    def __init__(self, form: UploadForm, limits: Limits) -> None:
        self.form, self.limits = form, limits
        self.headers: dict[str, str] = {}
        self.raw_headers: dict[str, bytes] = {}
        self._header_field = b""
        self._header_value = b""
        self.field_name: str | None = None
        self.field_data = bytearray()
        self.file: UploadedFile | None = None
        self.handle: IO[bytes] | None = None
        self.total = 0
        self.ended = False

    def on_part_begin(self) -> None:
        self.headers, self.raw_headers, self.field_name, self.file = {}, {}, None, None
        self.field_data = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        key = self._header_field.decode("latin-1").lower()
        self.headers[key] = self._header_value.decode("utf-8", "replace")
        self.raw_headers[key] = self._header_value  # bytes: browsers send UTF-8 file names raw (RFC 7578)
        self._header_field = self._header_value = b""

    def on_headers_finished(self) -> None:
        disposition = self.raw_headers.get("content-disposition", b"")
        _, options = parse_options_header(disposition)
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = _extended(disposition) or options.get(b"filename")
        if filename is None:
            if name == self.limits.file_field:
                raise InvalidInputError(
                    f"the part {name!r} has no filename, so it is not a file: send each recording as a file "
                    f'(Content-Disposition: form-data; name="{name}"; filename="take1.wav"; '
                    f"with curl, -F {name}=@take1.wav)",
                    code="missing_filename",
                )
            if len(self.form.fields) >= self.limits.max_fields:
                raise InvalidInputError("too many form fields", code="too_many_fields")
            self.field_name = name
            return
        label = label_of(filename.decode("utf-8", "replace"))
        content_type = self.headers.get("content-type", "")
        if name in self.limits.extra_file_fields:
            if name in self.form.extra_files:
                raise InvalidInputError(f"send one file as {name!r}", code="too_many_files")
            path = self.form.folder / f"{name}-{safe_name(0, label, content_type)}"
            self.file = UploadedFile(label=label, path=path, content_type=content_type, field=name)
            self.form.extra_files[name] = self.file
        elif name != self.limits.file_field:
            raise InvalidInputError(f"unexpected file field {name!r}; send files as {self.limits.file_field!r}")
        elif len(self.form.files) >= self.limits.max_files:
            raise LimitExceededError(
                f"more than {self.limits.max_files} files; send at most {self.limits.max_files}", code="too_many_files"
            )
        else:
            path = self.form.folder / safe_name(len(self.form.files) + 1, label, content_type)
            self.file = UploadedFile(label=label, path=path, content_type=content_type)
            self.form.files.append(self.file)
        self.handle = open(path, "xb")  # noqa: SIM115 - closed in on_part_end or by close()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        size = end - start
        self.total += size
        if self.total > self.limits.max_total_bytes:
            raise LimitExceededError(
                f"the upload is larger than {_mb(self.limits.max_total_bytes)} in all", code="upload_too_large"
            )
        if self.file is not None and self.handle is not None:
            self.file.size += size
            if self.file.size > self.limits.max_file_bytes:
                raise LimitExceededError(
                    f"{self.file.label} is larger than the {_mb(self.limits.max_file_bytes)} a file may be",
                    code="file_too_large",
                )
            self.handle.write(data[start:end])
        else:
            self.field_data += data[start:end]
            if len(self.field_data) > self.limits.max_field_bytes:
                raise InvalidInputError(
                    f"form field {self.field_name!r} is longer than {self.limits.max_field_bytes} bytes",
                    code="field_too_long",
                )

    def on_part_end(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None
        elif self.field_name is not None:
            self.form.fields[self.field_name] = self.field_data.decode("utf-8", "replace")

    def on_end(self) -> None:
        self.ended = True

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB" if n >= 1024 * 1024 else f"{n} bytes"


async def read_upload(request: Request, parent: Path, limits: Limits, leases: Leases) -> UploadForm:
    """Stream the request's multipart body into a new folder under ``parent``; on any error nothing is left."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in params:
        raise ApiError(415, "send the files as multipart/form-data", code="unsupported_media_type")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_total_bytes + 64 * 1024:
        raise LimitExceededError(
            f"the upload is larger than {_mb(limits.max_total_bytes)} in all", code="upload_too_large"
        )
    # the lease comes first and the folder second, so a folder without a held lease is abandoned
    name = f"upload-{new_id()}"
    form = UploadForm(folder=parent / name, lease=leases.hold(name))
    try:
        form.folder.mkdir(parents=True)
    except OSError:
        form.cleanup()
        raise
    reader = _Reader(form, limits)
    parser = MultipartParser(
        params[b"boundary"],
        {
            "on_part_begin": reader.on_part_begin,
            "on_part_data": reader.on_part_data,
            "on_part_end": reader.on_part_end,
            "on_header_field": reader.on_header_field,
            "on_header_value": reader.on_header_value,
            "on_header_end": reader.on_header_end,
            "on_headers_finished": reader.on_headers_finished,
            "on_end": reader.on_end,
        },
    )
    done = False
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
        if not reader.ended:
            raise InvalidInputError("the multipart body ended before its closing boundary", code="bad_multipart")
        done = True
    except (InvalidInputError, LimitExceededError):
        raise
    except Exception as exc:  # the multipart parser's own errors: a malformed body
        raise InvalidInputError(f"the multipart body is malformed: {exc}", code="bad_multipart") from None
    finally:
        if not done:  # also on a client that went away (cancellation)
            reader.close()
            form.cleanup()
    return form
