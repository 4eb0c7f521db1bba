"""Upload limits enforced while the body arrives, not after it is stored.

Two guards, both answering with JSON ``{"error": ...}``:

* ``UploadSizeGuard`` wraps the ASGI app. A body whose Content-Length is over
  GAN_UPLOAD_MAX_BYTES gets 413 before Django reads (and spools) any of it; a
  body without a length is counted as it streams and cut off the same way.
* ``LimitingUploadHandler`` is installed by the upload views ahead of
  ``DiskUploadHandler``: it refuses by Content-Length before parsing, counts
  the bytes written, and stops at the allowed number of files (400). Every file
  goes to a temporary file on disk; none is kept in memory. Django's own
  temporary-file handler keeps each one open until the response is sent, so
  a body of 1,000 images held 1,000 descriptors (two such uploads at once
  broke a 1,024 limit); ours closes each file as soon as it is complete and
  hands it on by path: one descriptor per request, whatever the file count.

Under daphne (Twisted) the whole body arrives before the application sees
any of it. ganweb.asgi keeps an allowed body in a temporary file (no form
parse by Twisted, chunks read back from the file as Django asks), so memory
does not grow with the upload, and drops the bytes of a body over the limit
as they arrive, answering 413 with ``refuse_too_large``: nothing of it is
stored. A proxy in front (nginx ``client_max_body_size``) can still save the
bandwidth by closing such a connection early.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

from ganweb.datasets.limits import human_bytes


def too_large_message(limit: int) -> str:
    return f"upload too large: the limit is {human_bytes(limit)}"


def too_many_files_message(limit: int) -> str:
    return f"too many files in one upload: at most {limit:,}"


class LimitingUploadHandler(FileUploadHandler):
    """Refuses over-size bodies and too many files while parsing."""

    def __init__(self, request=None):
        super().__init__(request)
        self.max_bytes = int(settings.GAN_UPLOAD_MAX_BYTES)
        self.max_files = int(settings.GAN_UPLOAD_MAX_FILES)
        self.received = 0
        self.files = 0
        self.refusal: tuple[int, str] | None = None

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding):
        if content_length and content_length > self.max_bytes:
            # Answer without reading the body: nothing is parsed or written.
            self.refusal = (413, too_large_message(self.max_bytes))
            return QueryDict(encoding=encoding), MultiValueDict()
        return None

    def new_file(self, *args, **kwargs):
        self.files += 1
        if self.files > self.max_files:
            self.refusal = (400, too_many_files_message(self.max_files))
            raise StopUpload(connection_reset=True)

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            self.refusal = (413, too_large_message(self.max_bytes))
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


class ClosedUpload(UploadedFile):
    """An uploaded file on disk, known by its path, with no descriptor open
    until it is read. Closing it (Django does at the end of the response)
    deletes what is left of it: a file moved away meanwhile is kept."""

    def __init__(self, path: str, name, content_type, size, charset, extra=None):
        super().__init__(None, name, content_type, size, charset, extra)
        self._path = path

    def temporary_file_path(self) -> str:
        return self._path

    def open(self, mode="rb"):
        if self.file is not None:
            self.file.close()
        self.file = open(self._path, mode)  # noqa: SIM115 - closed by close()
        return self

    def chunks(self, chunk_size=None):
        with open(self._path, "rb") as fh:
            while chunk := fh.read(chunk_size or self.DEFAULT_CHUNK_SIZE):
                yield chunk

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
        Path(self._path).unlink(missing_ok=True)


class _Part:
    """The file being received. Django's parser closes ``handler.file`` when
    an upload stops half way: then nothing of it stays on disk."""

    def __init__(self):
        fd, self.path = tempfile.mkstemp(
            suffix=".upload", dir=settings.FILE_UPLOAD_TEMP_DIR
        )
        self._out = os.fdopen(fd, "wb")
        self.kept = False

    def write(self, data: bytes) -> None:
        self._out.write(data)

    def keep(self) -> str:
        self._out.close()
        self.kept = True
        return self.path

    def close(self) -> None:
        self._out.close()
        if not self.kept:
            Path(self.path).unlink(missing_ok=True)


class DiskUploadHandler(FileUploadHandler):
    """Every uploaded file to its own temporary file, closed once complete."""

    file: _Part | None = None

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.file = _Part()

    def receive_data_chunk(self, raw_data, start):
        self.file.write(raw_data)

    def file_complete(self, file_size):
        return ClosedUpload(
            self.file.keep(),
            self.file_name,
            self.content_type,
            file_size,
            self.charset,
            self.content_type_extra,
        )

    def upload_interrupted(self):
        if self.file is not None:
            self.file.close()


def install_upload_limits(request) -> LimitingUploadHandler:
    """Put our handler first and keep every file on disk; before any parsing."""
    handler = LimitingUploadHandler(request)
    request.upload_handlers = [handler, DiskUploadHandler(request)]
    return handler


class UploadSizeGuard:
    """ASGI middleware: 413 for request bodies over GAN_UPLOAD_MAX_BYTES."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = int(settings.GAN_UPLOAD_MAX_BYTES)
        length = _content_length(scope)
        if length is not None and length > limit:
            return await _refuse(send, limit)
        if length is not None:
            return await self.app(scope, receive, send)
        return await self._counted(scope, receive, send, limit)

    async def _counted(self, scope, receive, send, limit):
        """No length given (chunked): count as it streams, cut off when over."""
        received, over, started = 0, False, False

        async def counting_receive():
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def watching_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, watching_send)
        if over and not started:
            await _refuse(send, limit)


def _content_length(scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send, limit: int) -> None:
    body = json.dumps({"error": too_large_message(limit)}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def refuse_too_large(scope, receive, send) -> None:
    """An ASGI app that only says 413: for bodies the server already dropped."""
    await _refuse(send, int(settings.GAN_UPLOAD_MAX_BYTES))
