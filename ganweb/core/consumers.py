"""WebSocket consumers: check permission in connect, join a group, forward events."""

from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from ganweb.core.realtime import user_group


class PushOnlyConsumer(AsyncJsonWebsocketConsumer):
    """A socket only the server writes to: client frames are dropped unread
    (decoding them let a 100,000-deep JSON frame crash the consumer)."""

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        return None


class UserEventsConsumer(PushOnlyConsumer):
    """Events addressed to the signed-in user (diagnostics, notifications)."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.group = user_group(user.id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def event_forward(self, message):
        await self.send_json(message["event"])


class UnknownPathConsumer(PushOnlyConsumer):
    """Every WebSocket path no app routes: refused in the handshake (HTTP 403)
    with code 4404, where Channels' router would raise and answer 500."""

    async def connect(self):
        await self.close(code=4404)
