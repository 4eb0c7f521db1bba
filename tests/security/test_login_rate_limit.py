"""A burst of wrong passwords locks sign-in (page and API token) for a while."""

import uuid

import pytest
from django.test import Client

from ganweb.accounts.throttle import login_failures_reset

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


@pytest.fixture
def victim(make_user):
    """A user of our own and an address of our own: the lockout lives in the
    shared Redis, so nothing here may lock out alice or 127.0.0.1."""
    user = make_user(f"victim-{uuid.uuid4().hex[:8]}", PASSWORD)
    address = f"203.0.113.{uuid.uuid4().int % 250 + 1}"
    yield user, address
    login_failures_reset(username=user.username, address=address)


def sign_in(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def token(client, username, password):
    return client.post(
        "/api/auth/token",
        {"username": username, "password": password},
        content_type="application/json",
    )


def test_sign_in_page_locks_after_a_burst_of_wrong_passwords(victim, settings):
    settings.GAN_LOGIN_MAX_FAILURES = 3
    user, address = victim
    client = Client(REMOTE_ADDR=address)
    for _ in range(3):
        assert sign_in(client, user.username, "wrong").status_code == 200
    locked = sign_in(client, user.username, PASSWORD)  # even the right password
    assert locked.status_code == 429
    assert b"Too many failed sign-ins" in locked.content
    assert "_auth_user_id" not in client.session
    # Someone else, elsewhere, is not locked out of the same account.
    assert sign_in(Client(), user.username, PASSWORD).status_code == 302


def test_api_token_locks_after_a_burst_of_wrong_passwords(victim, settings):
    settings.GAN_LOGIN_MAX_FAILURES = 3
    user, address = victim
    client = Client(REMOTE_ADDR=address)
    for _ in range(3):
        assert token(client, user.username, "wrong").status_code == 401
    locked = token(client, user.username, PASSWORD)
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert "token" not in locked.json()


def test_page_and_api_share_one_counter(victim, settings):
    settings.GAN_LOGIN_MAX_FAILURES = 4
    user, address = victim
    client = Client(REMOTE_ADDR=address)
    for _ in range(2):
        sign_in(client, user.username, "wrong")
        token(client, user.username, "wrong")
    assert token(client, user.username, PASSWORD).status_code == 429
    assert sign_in(client, user.username, PASSWORD).status_code == 429


def test_spraying_many_usernames_from_one_address_is_stopped(victim, settings):
    settings.GAN_LOGIN_MAX_FAILURES_PER_ADDRESS = 5
    user, address = victim
    client = Client(REMOTE_ADDR=address)
    names = [f"nobody-{n}-{uuid.uuid4().hex[:6]}" for n in range(5)]
    try:
        for name in names:
            assert token(client, name, "guess").status_code == 401
        assert token(client, user.username, PASSWORD).status_code == 429
    finally:
        for name in names:
            login_failures_reset(username=name, address=address)


def test_a_success_clears_the_count(victim, settings):
    settings.GAN_LOGIN_MAX_FAILURES = 3
    user, address = victim
    client = Client(REMOTE_ADDR=address)
    for _ in range(2):
        sign_in(client, user.username, "wrong")
    assert token(client, user.username, PASSWORD).status_code == 200
    for _ in range(2):
        sign_in(client, user.username, "wrong")
    assert token(client, user.username, PASSWORD).status_code == 200
