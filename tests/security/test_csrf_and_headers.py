"""Browser forms need a CSRF token; deployed cookies and frames are locked down."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.security.test_every_url_keeps_people_apart import endpoints

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery"
# Routes a browser never posts a form to with a session: the token exchange and
# the schema authenticate nobody by cookie, so there is nothing to forge.
NO_SESSION = {"api-token", "api-schema", "healthz"}


def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def test_every_state_changing_route_refuses_a_post_without_csrf_token(
    alice, alice_things
):
    client = csrf_client()
    client.force_login(alice)
    accepted = []
    for name, _, url in endpoints(alice_things):
        if name in NO_SESSION:
            continue
        response = client.post(url, {"title": "x", "name": "x"})
        if response.status_code != 403 or b"CSRF" not in response.content:
            accepted.append((url, response.status_code))
    assert accepted == []
    # Nothing changed: alice's job is still hers and still finished.
    job = alice_things["job"]
    assert type(job).objects.get(pk=job.pk).state == "finished"


def test_sign_in_sign_up_and_sign_out_need_the_token(alice):
    client = csrf_client()
    credentials = {"username": "alice", "password": PASSWORD}
    assert client.post("/accounts/login/", credentials).status_code == 403
    signup = {"username": "mallory", "password1": "pw-long-9x", "password2": "x"}
    assert client.post("/accounts/signup/", signup).status_code == 403

    client.get("/accounts/login/")
    token = client.cookies["csrftoken"].value
    signed_in = client.post(
        "/accounts/login/", {**credentials, "csrfmiddlewaretoken": token}
    )
    assert signed_in.status_code == 302
    assert client.post("/accounts/logout/").status_code == 403
    assert client.get("/jobs/").status_code == 200  # still signed in
    token = client.cookies["csrftoken"].value  # rotated at sign-in
    out = client.post("/accounts/logout/", {"csrfmiddlewaretoken": token})
    assert out.status_code == 302 and client.get("/jobs/").status_code == 302


def test_job_form_and_actions_work_with_the_token(alice, alice_things):
    client = csrf_client()
    client.force_login(alice)
    job = alice_things["job"]
    client.get(f"/jobs/{job.pk}/")  # the page with the action forms
    token = client.cookies["csrftoken"].value
    form = client.post(
        "/jobs/new/",
        {"dataset": "builtin:ring8", "family": "gan", "csrfmiddlewaretoken": token},
    )
    assert form.status_code != 403  # past the CSRF check (valid or not)
    response = client.post(
        f"/jobs/{job.pk}/rerun", {"csrfmiddlewaretoken": token}, follow=False
    )
    assert response.status_code == 302  # a rerun was made, with the token
    assert type(job).objects.filter(parent=job).count() == 1


def test_session_api_needs_the_token_but_bearer_does_not(alice):
    from rest_framework.authtoken.models import Token

    client = csrf_client()
    client.force_login(alice)
    body = {"dataset": "builtin:ring8", "model": "gan", "config": {"steps": 2}}
    refused = client.post("/api/jobs/", body, content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    bearer = csrf_client().get(
        "/api/me", HTTP_AUTHORIZATION=f"Bearer {Token.objects.create(user=alice)}"
    )
    assert bearer.status_code == 200


@pytest.mark.parametrize("url", ["/", "/accounts/login/", "/jobs/", "/datasets/"])
def test_pages_cannot_be_framed(url, alice):
    client = Client()
    client.force_login(alice)
    response = client.get(url)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_cookies_carry_their_flags_when_deployed(alice, settings):
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    client = Client()
    client.get("/accounts/login/", secure=True)
    token = client.cookies["csrftoken"].value
    client.post(
        "/accounts/login/",
        {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": token},
        secure=True,
        HTTP_REFERER="https://testserver/accounts/login/",
    )
    session = client.cookies[settings.SESSION_COOKIE_NAME]
    csrf = client.cookies[settings.CSRF_COOKIE_NAME]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    assert csrf["secure"] and csrf["samesite"] == "Lax"


def test_deploy_settings_turn_on_every_protection(tmp_path):
    code = (
        "import json, django; django.setup(); from django.conf import settings as s;"
        "print(json.dumps({k: getattr(s, k) for k in ("
        "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY',"
        "'SESSION_COOKIE_SAMESITE', 'CSRF_COOKIE_SAMESITE', 'X_FRAME_OPTIONS',"
        "'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SECURE_CONTENT_TYPE_NOSNIFF',"
        "'DEBUG')}))"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "ganweb.settings",
        "SECRET_KEY": "s" * 80,
        "SECURE_HTTPS": "1",
        "ALLOWED_HOSTS": "gan.example.com",
        "GAN_VAR_DIR": str(tmp_path),
    }
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    deployed = json.loads(out.stdout.strip().splitlines()[-1])
    assert deployed == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SAMESITE": "Lax",
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "DEBUG": False,
    }
