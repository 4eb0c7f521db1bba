"""A small synchronous WebSocket client for tests (the `websockets` library)."""

from __future__ import annotations

import json

from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.deadlines import scaled


def open_socket(
    url: str,
    *,
    cookie: str | None = None,
    origin: str | None = None,
    token: str | None = None,
) -> ClientConnection:
    headers = {}
    if cookie:
        headers["Cookie"] = cookie
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return connect(
        url, origin=origin, additional_headers=headers, open_timeout=scaled(10)
    )


def handshake_status(url: str, **kwargs) -> int:
    """101 when the server accepts the socket, else the HTTP status it answered."""
    try:
        with open_socket(url, **kwargs):
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code


def receive_json(socket: ClientConnection, timeout: float | None = None) -> dict:
    """The next message as JSON; ``timeout`` defaults to 10 s, scaled."""
    return json.loads(socket.recv(timeout=scaled(10) if timeout is None else timeout))
