"""Live job sockets: permission in connect, history first, then every event."""

from __future__ import annotations

from channels.db import database_sync_to_async

from ganweb.core.consumers import PushOnlyConsumer
from ganweb.core.realtime import job_group
from ganweb.jobs.selectors import job_for_user, job_snapshot


@database_sync_to_async
def _snapshot_for(user, job_id):
    job = job_for_user(user, job_id)
    return None if job is None else job_snapshot(job)


class JobConsumer(PushOnlyConsumer):
    async def connect(self):
        user = self.scope.get("user")
        job_id = self.scope["url_route"]["kwargs"]["job_id"]
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        if await database_sync_to_async(job_for_user)(user, job_id) is None:
            await self.close(code=4404)
            return
        # Join before reading history so no event falls between the two; the
        # page drops duplicates by step.
        self.group = job_group(int(job_id))
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(await _snapshot_for(user, job_id))

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def event_forward(self, message):
        await self.send_json(message["event"])
