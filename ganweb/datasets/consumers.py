"""Live dataset state: permission in connect, the current state, then events."""

from __future__ import annotations

from channels.db import database_sync_to_async

from ganweb.core.consumers import PushOnlyConsumer
from ganweb.datasets.selectors import (
    dataset_for_user,
    dataset_group,
    dataset_state_event,
)


@database_sync_to_async
def _current_state(user, dataset_id):
    dataset = dataset_for_user(user, dataset_id)
    return None if dataset is None else dataset_state_event(dataset)


class DatasetConsumer(PushOnlyConsumer):
    async def connect(self):
        user = self.scope.get("user")
        dataset_id = self.scope["url_route"]["kwargs"]["dataset_id"]
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        if await _current_state(user, dataset_id) is None:
            await self.close(code=4404)
            return
        # Join before reading the state so no change falls between the two.
        self.group = dataset_group(dataset_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(await _current_state(user, dataset_id))

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def event_forward(self, message):
        await self.send_json(message["event"])
