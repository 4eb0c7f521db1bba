"""Sign-in fails closed when the lockout counters cannot be reached: 503 with a
clear message, and no password is checked, right or wrong.

The cache points at a port where no Redis listens: the real client, refused.
(A real Redis stopped and started again: tests/reliability/test_redis_outage.py.)
"""

from __future__ import annotations

import pytest

from ganweb import devstack
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{devstack.free_port()}/0",
        }
    }


def test_sign_in_page_answers_503_and_signs_nobody_in(client, alice, redis_down):
    for password in (PASSWORD, "wrong"):
        response = client.post(
            "/accounts/login/", {"username": "alice", "password": password}
        )
        assert response.status_code == 503
        assert b"Sign-in is unavailable for a moment" in response.content
        assert int(response.headers["Retry-After"]) > 0
        assert "_auth_user_id" not in client.session


def test_api_token_answers_503_and_gives_no_token(client, alice, redis_down):
    response = client.post(
        "/api/auth/token",
        {"username": "alice", "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 503
    assert "Sign-in is unavailable" in response.json()["error"]
    assert "token" not in response.json()
