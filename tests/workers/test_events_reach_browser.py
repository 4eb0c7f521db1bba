"""The path from a Celery task to a signed-in browser's WebSocket, for real."""

import pytest

from tests.conftest import session_cookie_for
from tests.deadlines import scaled
from tests.wsclient import handshake_status, open_socket, receive_json

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_task_events_reach_signed_in_socket(live_stack, alice):
    from workers.tasks.diagnostics import broadcast_events

    cookie = session_cookie_for(alice)
    with open_socket(
        f"{live_stack.ws_url}/ws/events/", cookie=cookie, origin=live_stack.url
    ) as socket:
        broadcast_events.delay(alice.id, 3)
        received = [receive_json(socket, timeout=scaled(30)) for _ in range(3)]
    assert [event["index"] for event in received] == [0, 1, 2]
    assert all(event["type"] == "diagnostic" for event in received)


def test_events_for_one_user_do_not_reach_another(live_stack, alice, bob):
    from workers.tasks.diagnostics import broadcast_events

    with open_socket(
        f"{live_stack.ws_url}/ws/events/",
        cookie=session_cookie_for(bob),
        origin=live_stack.url,
    ) as bob_socket:
        broadcast_events.delay(alice.id, 2)
        broadcast_events.delay(bob.id, 1)
        first = receive_json(bob_socket, timeout=scaled(30))
        assert first == {"type": "diagnostic", "index": 0, "count": 1}
        with pytest.raises(TimeoutError):
            bob_socket.recv(timeout=scaled(1.5))


def test_anonymous_socket_is_refused(live_stack):
    status = handshake_status(f"{live_stack.ws_url}/ws/events/", origin=live_stack.url)
    assert status == 403


def test_cross_origin_socket_is_refused_even_with_a_valid_session(live_stack, alice):
    status = handshake_status(
        f"{live_stack.ws_url}/ws/events/",
        cookie=session_cookie_for(alice),
        origin="https://evil.example",
    )
    assert status == 403


def test_socket_without_origin_needs_an_api_token(live_stack, alice):
    from rest_framework.authtoken.models import Token

    url = f"{live_stack.ws_url}/ws/events/"
    assert handshake_status(url, cookie=session_cookie_for(alice)) == 403
    token = Token.objects.create(user=alice)
    assert handshake_status(url, token=token.key) == 101
    assert handshake_status(url, token="not-a-real-token") == 403
