"""ASGI entry point: Django for HTTP, Channels consumers for WebSockets (daphne).

Importing this module also adjusts the daphne server it runs in (see
``keep_request_bodies_on_disk``): without that, a 100 MB multipart upload cost
the web process over a gigabyte of memory.
"""

import asyncio
import functools
import inspect
import io
import logging
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ganweb.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from ganweb.core.ws_auth import GuardedAuthMiddleware  # noqa: E402
from ganweb.datasets.uploads import (  # noqa: E402
    UploadSizeGuard,
    refuse_too_large,
)
from ganweb.routing import websocket_urlpatterns  # noqa: E402

logger = logging.getLogger(__name__)


class BodyOnDemandQueue(asyncio.Queue):
    """A daphne application queue that keeps request body chunks on disk.

    daphne answers a complete request by reading the whole body (which Twisted
    has spooled to a temporary file) and putting every chunk on the queue at
    once, before the application runs: the body sat in memory in full. Here a
    chunk put on the queue is kept as its place in that file, and read back
    only when the application receives it, so at most one chunk is in memory.
    If the file is gone (the client went away, or the response is over) the
    application receives ``http.disconnect``.
    """

    def __init__(self, content):
        super().__init__()
        self._content = content
        self._written = 0

    def put_nowait(self, item):
        body = item.get("body") if item.get("type") == "http.request" else None
        if body:
            item = _BodyChunk(self._written, len(body), item.get("more_body", False))
            self._written += item.length
        super().put_nowait(item)

    async def get(self):
        item = await super().get()
        if not isinstance(item, _BodyChunk):
            return item
        try:
            self._content.seek(item.offset)
            body = self._content.read(item.length)
        except (ValueError, OSError):  # closed: the request is over
            return {"type": "http.disconnect"}
        if len(body) != item.length:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": body, "more_body": item.more_body}


class _OverLimitBody(io.BytesIO):
    """Where the rest of a body over the upload limit goes: nowhere.

    Twisted would spool it all to a temporary file before daphne runs the
    application; the bytes are read off the socket and dropped instead, and
    the application is replaced by a 413 answer (see ``keep_request_bodies_on_disk``).
    """

    def write(self, data):
        return len(data)


class _BodyChunk:
    __slots__ = ("offset", "length", "more_body")

    def __init__(self, offset: int, length: int, more_body: bool):
        self.offset, self.length, self.more_body = offset, length, more_body


def _upload_limit() -> int:
    from django.conf import settings

    return int(settings.GAN_UPLOAD_MAX_BYTES)


def keep_request_bodies_on_disk() -> bool:
    """Make the daphne server in this process stream request bodies from disk.

    Two things held a large upload in memory, both before Django saw a byte:

    * Twisted's ``Request.requestReceived`` parses every multipart/form-data
      POST into ``request.args`` (daphne never reads them) with the ``email``
      package: the body read whole, copied and decoded several times over,
      about 12 times the upload at its peak. Twisted lets a request turn that
      off (``parsePOSTFormSubmission=False``); daphne does not pass it, so
      its request class is given it here.
    * daphne then queues the whole body for the application at once; its
      queue becomes a ``BodyOnDemandQueue``.

    A body over GAN_UPLOAD_MAX_BYTES (declared, or counted as a chunked body
    arrives) is not stored at all: its bytes are dropped as they come and the
    answer is 413 without the application running.

    Idempotent; returns False (and changes nothing) where daphne or this
    Twisted is not there.
    """
    try:
        from daphne.http_protocol import WebRequest
        from daphne.server import Server
        from twisted.web.http import Request
    except ImportError:
        return False
    if getattr(Server, "_gan_bodies_on_disk", False):
        return True
    if "parsePOSTFormSubmission" not in inspect.signature(Request.__init__).parameters:
        logger.warning("this Twisted parses every form upload in memory")
        return False

    web_request_init = WebRequest.__init__
    got_length = WebRequest.gotLength
    handle_content_chunk = WebRequest.handleContentChunk

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("parsePOSTFormSubmission", False)
        web_request_init(self, *args, **kwargs)
        self.gan_body_bytes = 0
        self.gan_over_limit = False

    def gotLength(self, length):
        # A declared length over the limit: nothing of the body is stored.
        if length is not None and length > _upload_limit():
            self.gan_over_limit = True
            self.content = _OverLimitBody()
            return
        got_length(self, length)

    def handleContentChunk(self, data):
        if self.gan_over_limit:
            return
        self.gan_body_bytes += len(data)
        if self.gan_body_bytes > _upload_limit():  # chunked, no length given
            self.gan_over_limit = True
            self.content.close()
            self.content = _OverLimitBody()
            return
        handle_content_chunk(self, data)

    create_application = Server.create_application

    def create_http_application(self, protocol, scope):
        content = getattr(protocol, "content", None)
        if scope.get("type") != "http" or content is None:
            return create_application(self, protocol, scope)
        # daphne's own steps, with our queue in place of a plain one.
        assert "application_instance" not in self.connections[protocol]
        queue = BodyOnDemandQueue(content)
        scope.setdefault("asgi", {"version": "3.0"})
        application = (
            refuse_too_large
            if getattr(protocol, "gan_over_limit", False)
            else self.application
        )
        instance = application(
            scope=scope,
            receive=queue.get,
            send=functools.partial(self.handle_reply, protocol),
        )
        if protocol not in self.connections:
            return None
        self.connections[protocol]["application_instance"] = asyncio.ensure_future(
            instance, loop=asyncio.get_event_loop()
        )
        return queue

    WebRequest.__init__ = __init__
    WebRequest.gotLength = gotLength
    WebRequest.handleContentChunk = handleContentChunk
    Server.create_application = create_http_application
    Server._gan_bodies_on_disk = True
    return True


keep_request_bodies_on_disk()

application = ProtocolTypeRouter(
    {
        "http": UploadSizeGuard(django_asgi_app),  # 413 before Django spools
        "websocket": GuardedAuthMiddleware(URLRouter(websocket_urlpatterns)),
    }
)
