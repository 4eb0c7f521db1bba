"""The ASGI guard answers 413 before Django reads (and spools) an over-size body."""

from __future__ import annotations

import json

from asgiref.sync import async_to_sync

from ganweb.datasets.uploads import UploadSizeGuard


class Recorder:
    """A fake client: body chunks on demand, and what the server sent back."""

    def __init__(self, chunks: list[bytes]):
        self.chunks, self.consumed, self.sent = list(chunks), 0, []

    async def receive(self):
        if not self.chunks:
            return {"type": "http.disconnect"}
        self.consumed += 1
        body = self.chunks.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(self.chunks)}

    async def send(self, message):
        self.sent.append(message)


async def reading_app(scope, receive, send):
    """Stands in for Django's ASGIHandler: reads the whole body, then answers
    200; a disconnect while reading ends the request without an answer."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def call(headers, chunks):
    client = Recorder(chunks)
    scope = {"type": "http", "method": "POST", "path": "/api/datasets/"}
    scope["headers"] = headers
    async_to_sync(UploadSizeGuard(reading_app))(scope, client.receive, client.send)
    return client


def test_declared_length_over_the_limit_is_413_without_reading_the_body(settings):
    settings.GAN_UPLOAD_MAX_BYTES = 1000
    client = call([(b"content-length", b"5000")], [b"x" * 1000] * 5)
    assert client.consumed == 0
    assert client.sent[0]["status"] == 413
    error = json.loads(client.sent[1]["body"])["error"]
    assert error.startswith("upload too large: the limit is")


def test_streamed_body_without_a_length_is_cut_off_once_over(settings):
    settings.GAN_UPLOAD_MAX_BYTES = 1000
    client = call([(b"transfer-encoding", b"chunked")], [b"x" * 400] * 10)
    assert client.consumed == 3  # stopped at the first chunk over the limit
    assert client.sent[0]["status"] == 413


def test_bodies_within_the_limit_pass_through(settings):
    settings.GAN_UPLOAD_MAX_BYTES = 1000
    assert call([(b"content-length", b"800")], [b"x" * 800]).sent[0]["status"] == 200
    assert call([], [b"x" * 300, b"y" * 300]).sent[0]["status"] == 200
