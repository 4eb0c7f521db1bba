"""schemathesis against /api/openapi.json: no input makes the API answer 5xx.

Runs in-process on Django's WSGI app (no sockets), signed in as alice with a
Bearer token, with a fixed seed and a bounded number of examples per operation
(the same cases every run: bench/fuzz_api.py searches with fresh seeds, and
what it finds becomes a test in tests/ganweb).
"""

from __future__ import annotations

import pytest
import schemathesis

from ganweb.accounts.throttle import login_failures_reset
from tests.security.api_fuzz import FUZZ_ADDRESS, fuzz_api, with_address

pytestmark = [pytest.mark.slow]

FUZZ_SEED = 14  # the issue that made the seed fixed
EXAMPLES = 30


@pytest.fixture
def keep_test_connection():
    """Like Django's test client: a request must not close the connection that
    holds the test's transaction."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def web_api(db, settings, keep_test_connection):
    from django.core.wsgi import get_wsgi_application

    settings.GAN_PLAYGROUND_TIMEOUT = 0.5  # never wait long on a light worker
    settings.GAN_PREFLIGHT_TIMEOUT = 0.5
    settings.GAN_IMPORT_TIMEOUT = 0.5
    settings.GAN_DIRECTIONS_TIMEOUT = 0.5
    app = with_address(get_wsgi_application())
    yield schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    login_failures_reset(username="", address=FUZZ_ADDRESS)


def test_api_answers_no_input_with_a_server_error(web_api, alice):
    from rest_framework.authtoken.models import Token

    auth = {"Authorization": f"Bearer {Token.objects.create(user=alice).key}"}
    report = fuzz_api(web_api, headers=auth, fuzz_seed=FUZZ_SEED, examples=EXAMPLES)
    print(f"{report.operations} operations, answers: {dict(report.statuses)}")
    assert report.operations >= 20
    assert report.statuses[200] > 50, report.statuses  # signed in: real work
    assert report.failures == [], "\n\n".join(report.failures)
