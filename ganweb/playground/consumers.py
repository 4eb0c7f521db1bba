"""Live projection sockets: only the person who asked may follow one."""

from __future__ import annotations

from channels.db import database_sync_to_async

from ganweb.core.consumers import PushOnlyConsumer
from ganweb.playground.projections import (
    projection_for_user,
    projection_group,
    public_view,
)


class ProjectionConsumer(PushOnlyConsumer):
    async def connect(self):
        user = self.scope.get("user")
        projection_id = self.scope["url_route"]["kwargs"]["projection_id"]
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        find = database_sync_to_async(projection_for_user)
        if await find(user, projection_id) is None:
            await self.close(code=4404)
            return
        # Join first, then read: no change falls between the two.
        self.group = projection_group(projection_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        record = await find(user, projection_id)
        await self.send_json({"type": "snapshot", **public_view(record or {})})

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def event_forward(self, message):
        await self.send_json(message["event"])
