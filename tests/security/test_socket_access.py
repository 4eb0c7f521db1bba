"""Who may hold a job socket, and for how long: origin, owner, credential."""

from __future__ import annotations

import pytest
import requests
from websockets.exceptions import ConnectionClosed

from ganweb.core.realtime import job_group, publish
from ganweb.jobs.models import Job
from tests.conftest import session_cookie_for
from tests.wsclient import handshake_status, open_socket, receive_json

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


@pytest.fixture
def alice_job(alice):
    # Not queued on Celery: a row is all a socket needs.
    return Job.objects.create(
        owner=alice, data_ref="builtin:ring8", family="gan", config={}
    )


def job_url(live_stack, job) -> str:
    return f"{live_stack.ws_url}/ws/jobs/{job.pk}/"


def browser_session(live_stack, user) -> requests.Session:
    """Signed in through the real sign-in form, as a browser would be."""
    browser = requests.Session()
    browser.get(f"{live_stack.url}/accounts/login/", timeout=10)
    response = browser.post(
        f"{live_stack.url}/accounts/login/",
        data={
            "username": user.username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text
    return browser


def assert_closed_with(socket, code: int, timeout: float = 10) -> None:
    """The server closes the socket (any events before the close are skipped)."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            socket.recv(timeout=timeout)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == code


def test_job_socket_from_another_site_is_refused_even_signed_in(
    live_stack, alice, alice_job
):
    cookie = session_cookie_for(alice)
    url = job_url(live_stack, alice_job)
    assert handshake_status(url, cookie=cookie, origin="https://evil.example") == 403
    assert handshake_status(url, cookie=cookie, origin="null") == 403
    assert handshake_status(url, cookie=cookie) == 403  # no Origin, no token
    assert handshake_status(url, cookie=cookie, origin=live_stack.url) == 101


def test_anonymous_and_other_users_cannot_open_a_job_socket(live_stack, bob, alice_job):
    url = job_url(live_stack, alice_job)
    assert handshake_status(url, origin=live_stack.url) == 403
    assert (
        handshake_status(url, origin=live_stack.url, cookie="sessionid=forged") == 403
    )
    bob_cookie = session_cookie_for(bob)
    assert handshake_status(url, origin=live_stack.url, cookie=bob_cookie) == 403
    from rest_framework.authtoken.models import Token

    bob_token = Token.objects.create(user=bob).key
    assert handshake_status(url, token=bob_token) == 403
    missing = f"{live_stack.ws_url}/ws/jobs/{alice_job.pk + 10_000}/"
    assert handshake_status(missing, origin=live_stack.url, cookie=bob_cookie) == 403


def test_signing_out_closes_the_open_sockets_of_that_session(
    live_stack, alice, alice_job
):
    browser = browser_session(live_stack, alice)
    cookie = f"sessionid={browser.cookies['sessionid']}"
    other_cookie = session_cookie_for(alice)  # alice on another computer
    with (
        open_socket(
            job_url(live_stack, alice_job), cookie=cookie, origin=live_stack.url
        ) as socket,
        open_socket(
            job_url(live_stack, alice_job), cookie=other_cookie, origin=live_stack.url
        ) as other,
        open_socket(
            f"{live_stack.ws_url}/ws/events/", cookie=cookie, origin=live_stack.url
        ) as events,
    ):
        assert receive_json(socket)["type"] == "snapshot"
        assert receive_json(other)["type"] == "snapshot"
        publish(job_group(alice_job.pk), {"type": "state", "state": "queued"})
        assert receive_json(socket)["type"] == "state"
        assert receive_json(other)["type"] == "state"
        response = browser.post(
            f"{live_stack.url}/accounts/logout/",
            data={"csrfmiddlewaretoken": browser.cookies["csrftoken"]},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302
        assert_closed_with(socket, 4401)
        assert_closed_with(events, 4401)
        # The other session is still signed in and still hears the job.
        publish(job_group(alice_job.pk), {"type": "state", "state": "running"})
        assert receive_json(other)["state"] == "running"
    # And the old cookie opens nothing any more.
    assert (
        handshake_status(
            job_url(live_stack, alice_job), cookie=cookie, origin=live_stack.url
        )
        == 403
    )


def test_revoked_token_closes_its_sockets_and_opens_no_new_one(
    live_stack, alice, alice_job
):
    token = requests.post(
        f"{live_stack.url}/api/auth/token",
        json={"username": "alice", "password": PASSWORD},
        timeout=10,
    ).json()["token"]
    url = job_url(live_stack, alice_job)
    with open_socket(url, token=token) as socket:
        assert receive_json(socket)["type"] == "snapshot"
        revoked = requests.delete(
            f"{live_stack.url}/api/auth/token/revoke",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert revoked.status_code == 204
        assert_closed_with(socket, 4401)
    assert handshake_status(url, token=token) == 403


def test_every_socket_route_refuses_bob_on_alice_things(live_stack, bob, alice_things):
    """Walks ganweb.routing like the URL walk does: a new socket route whose
    parameter is unknown fails here until FILL learns it."""
    from ganweb.routing import websocket_urlpatterns
    from tests.security.test_every_url_keeps_people_apart import FILL

    bob_cookie = session_cookie_for(bob)
    for pattern in websocket_urlpatterns:
        params = list(pattern.pattern.regex.groupindex)
        assert all(param in FILL for param in params), pattern.pattern
        route = str(pattern.pattern)
        for param in params:
            route = route.replace(
                f"<id:{param}>", str(FILL[param](alice_things)[0])
            ).replace(f"<{param}>", str(FILL[param](alice_things)[0]))
        url = f"{live_stack.ws_url}/{route}"
        if params:
            status = handshake_status(url, origin=live_stack.url, cookie=bob_cookie)
            assert status == 403, url
        assert handshake_status(url, origin=live_stack.url) == 403, url


@pytest.mark.parametrize("path", ["/ws/nowhere/", "/ws/jobs/abc/", "/ws/jobs/²/", "/"])
def test_a_socket_to_an_unknown_path_is_refused_without_a_server_error(
    live_stack, alice, path
):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=alice).key
    log = live_stack.web.log_path
    before = log.stat().st_size
    url = f"{live_stack.ws_url}{path}"
    assert handshake_status(url, token=token) == 403  # it was 500
    assert (
        handshake_status(url, cookie=session_cookie_for(alice), origin=live_stack.url)
        == 403
    )
    with log.open("rb") as written:
        written.seek(before)
        assert b"Traceback" not in written.read()


def test_what_a_client_sends_on_a_socket_is_ignored_even_a_deep_json_frame(
    live_stack, alice, alice_job
):
    from rest_framework.authtoken.models import Token

    log = live_stack.web.log_path
    before = log.stat().st_size
    with open_socket(
        job_url(live_stack, alice_job), token=Token.objects.create(user=alice).key
    ) as socket:
        assert receive_json(socket)["type"] == "snapshot"
        socket.send("[" * 100_000)
        publish(job_group(alice_job.pk), {"type": "state", "state": "queued"})
        assert receive_json(socket) == {"type": "state", "state": "queued"}
    with log.open("rb") as written:
        written.seek(before)
        assert b"Traceback" not in written.read()
