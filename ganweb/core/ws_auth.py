"""WebSocket handshake guard: who is connecting, and from which page.

A browser always sends Origin, so a handshake whose Origin is not one of our
hosts is a cross-site attempt and is refused even with a valid session cookie.
Scripts send no Origin; they must authenticate with an API token instead.

Every accepted socket also listens on a group named after the credential it
came with (its session, or its API token): signing out, or revoking the token,
sends ``credential.ended`` there and the socket is closed (code 4401), whatever
consumer it reached.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from http.cookies import SimpleCookie
from urllib.parse import urlparse

from asgiref.sync import async_to_sync
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.http.request import validate_host

logger = logging.getLogger(__name__)

CREDENTIAL_ENDED = "credential.ended"


def session_group(session_key: str) -> str:
    digest = hashlib.sha256(session_key.encode()).hexdigest()[:40]
    return f"session_{digest}"


def token_group(token_key: str) -> str:
    digest = hashlib.sha256(token_key.encode()).hexdigest()[:40]
    return f"token_{digest}"


def credential_end(group: str) -> None:
    """Close every socket opened with this credential (sync; views, signals).

    Best effort: a Redis outage must not stop anyone from signing out.
    """
    try:
        async_to_sync(get_channel_layer().group_send)(group, {"type": CREDENTIAL_ENDED})
    except Exception:
        logger.warning("could not close the sockets of %s", group, exc_info=True)


def _session_key(scope) -> str | None:
    cookies = SimpleCookie()
    try:
        cookies.load(_header(scope, b"cookie") or "")
    except Exception:
        return None
    morsel = cookies.get(settings.SESSION_COOKIE_NAME)
    return morsel.value if morsel and morsel.value else None


@database_sync_to_async
def _user_for_token(key: str):
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return None
    return token.user


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def origin_allowed(origin: str) -> bool:
    parsed = urlparse(origin)
    if not parsed.hostname:
        return False
    return validate_host(parsed.hostname, settings.ALLOWED_HOSTS)


class GuardedAuthMiddleware:
    """Bearer token or session auth, plus the Origin rules above."""

    def __init__(self, inner):
        self.inner = AuthMiddlewareStack(inner)
        self.raw_inner = inner

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        origin = _header(scope, b"origin")
        authorization = _header(scope, b"authorization") or ""
        if authorization.startswith("Bearer "):
            key = authorization[len("Bearer ") :].strip()
            user = await _user_for_token(key)
            if user is None or (origin is not None and not origin_allowed(origin)):
                return await self._refuse(send, receive)
            app = self.raw_inner
            scope = dict(scope, user=user)
            group = token_group(key)
        else:
            if origin is None or not origin_allowed(origin):
                return await self._refuse(send, receive)
            app = self.inner
            session_key = _session_key(scope)
            group = session_group(session_key) if session_key else None
        if group is None:
            return await app(scope, receive, send)
        return await self._until_credential_ends(app, group, scope, receive, send)

    async def _until_credential_ends(self, app, group, scope, receive, send):
        """Run ``app``, closing the socket when ``group`` hears the credential end.

        Joined before the app runs, so a sign-out during the handshake is not
        missed; the app still sees the client's own disconnect afterwards.
        """
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        ended = asyncio.Event()

        async def guarded_send(message):
            if ended.is_set() and message["type"] != "websocket.close":
                return  # closed under the app's feet: its late sends go nowhere
            await send(message)

        async def watch():
            while True:
                try:
                    message = await layer.receive(channel)
                except asyncio.CancelledError:
                    raise
                except Exception:  # Redis restarting: listen again shortly
                    await asyncio.sleep(1)
                    continue
                if message.get("type") == CREDENTIAL_ENDED:
                    break
            ended.set()
            await send({"type": "websocket.close", "code": 4401})

        watcher = asyncio.ensure_future(watch())
        try:
            return await app(scope, receive, guarded_send)
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
            try:
                await layer.group_discard(group, channel)
            except Exception:  # Redis gone: the group entry expires by itself
                pass

    async def _refuse(self, send, receive):
        # Consume the connect message, then reject the handshake (HTTP 403).
        await receive()
        await send({"type": "websocket.close", "code": 4403})
