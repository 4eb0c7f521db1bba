"""schemathesis against /api/openapi.json: no input makes the API answer 5xx.

Runs in-process on Django's WSGI app (no sockets), signed in as alice with a
Bearer token, a bounded number of examples per operation.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from ganweb.accounts.throttle import login_failures_reset

pytestmark = [pytest.mark.slow]

# Wrong passwords from the fuzz are counted against this address, not against
# 127.0.0.1 (which every other test and the live stack sign in from).
FUZZ_ADDRESS = "198.51.100.77"


def with_address(app):
    def wrapped(environ, start_response):
        environ["REMOTE_ADDR"] = FUZZ_ADDRESS
        return app(environ, start_response)

    return wrapped


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
    app = with_address(get_wsgi_application())
    yield schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    login_failures_reset(username="", address=FUZZ_ADDRESS)


# Revoking alice's token mid-run would turn the rest into 401s; revocation has
# its own tests (tests/ganweb/api, tests/security/test_socket_access.py).
SKIPPED = {("DELETE", "/api/auth/token/revoke")}
FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    derandomize=False,
)


def test_api_answers_no_input_with_a_server_error(web_api, alice):
    # (schemathesis' own pytest plugin does not run under pytest 9: we drive
    # its hypothesis strategies directly, one operation at a time.)
    from rest_framework.authtoken.models import Token

    auth = {"Authorization": f"Bearer {Token.objects.create(user=alice).key}"}
    failures, operations, statuses = [], 0, Counter()
    for result in web_api.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @FUZZ
            @given(case=operation.as_strategy(mode))
            def call(case):
                case.headers = {**(case.headers or {}), **auth}
                response = case.call()
                statuses[response.status_code // 100 * 100] += 1
                if response.status_code == 503 and "no worker" in response.text:
                    return  # documented: no light worker answered in 0.5 s
                case.validate_response(response, checks=(not_a_server_error,))

            try:
                call()
            except Exception as failure:  # keep going: report every operation
                failures.append(f"{operation.label} ({mode.value}): {failure}")
    print(f"{operations} operations, answers by class: {dict(statuses)}")
    assert operations >= 20
    assert statuses[200] > 50, statuses  # signed in: real work, not only 401s
    assert failures == [], "\n\n".join(failures)
