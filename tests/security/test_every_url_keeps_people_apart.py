"""Walk every URL pattern with alice's real ids: bob and strangers get nothing.

The walk is driven by the URL conf itself, so a new route is checked the day it
lands; a route with a parameter this file cannot fill fails the test until
someone teaches FILL what to put there.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

pytestmark = pytest.mark.django_db

# How to fill each path parameter from alice's things. A new parameter name
# must be added here (and, if it names a new kind of object, to conftest.py).
FILL = {
    "job_id": lambda t: [t["job"].pk],
    "dataset_id": lambda t: [t["dataset"].pk],
    "gallery_id": lambda t: [t["gallery"].pk],
    "item_id": lambda t: [t["item"].pk],
    "token": lambda t: [t["share"].token],
    "path": lambda t: ["samples/step_0000004.png", "checkpoints/latest.pt"],
    "name": lambda t: ["preview.png", "thumbs/0000.png"],
    "action": lambda t: ["cancel", "resume", "rerun", "delete"],
    "projection_id": lambda t: [t["projection"]["id"]],
}
# Parameters that name one of alice's objects (bob must not reach them).
OBJECT_PARAMS = {"job_id", "dataset_id", "gallery_id", "item_id", "projection_id"}

# Open to everybody. Share links show alice's gallery to anyone holding the
# token: that is their purpose.
PUBLIC = {
    "home",
    "healthz",
    "login",
    "signup",
    "logout",
    "api-token",
    "api-schema",
    "gallery-shared",
    "gallery-shared-item",
    "gallery-shared-download",
}
# Gallery pages answer visitors with 404 rather than the sign-in page, on
# purpose (ganweb/gallery/views.py): a gallery's existence is not revealed.
NOT_FOUND_FOR_VISITORS = {"gallery-detail", "gallery-download", "gallery-item-file"}
SHARE_LINKS = {"gallery-shared", "gallery-shared-item", "gallery-shared-download"}
UNSAFE = ("post", "put", "patch", "delete")


def walk(patterns, prefix=""):
    """(pattern name, parameter names, route text) of every endpoint."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            params = list(entry.pattern.regex.groupindex)
            yield entry.name, params, prefix + str(entry.pattern)


def endpoints(things):
    """Every URL of the site, filled in with alice's ids: (name, params, url)."""
    found = []
    for name, params, route in walk(get_resolver().url_patterns):
        assert name, f"route {route!r} has no name: name it so it can be walked"
        unknown = [param for param in params if param not in FILL]
        assert not unknown, (
            f"route {name} ({route}) has parameters {unknown} this test cannot "
            "fill: teach FILL (and alice_things) about them"
        )
        combos = [{}]
        for param in params:
            combos = [
                {**combo, param: value}
                for combo in combos
                for value in FILL[param](things)
            ]
        found += [(name, set(params), reverse(name, kwargs=kw)) for kw in combos]
    return found


def request(client, method, url):
    if url.startswith("/api/"):
        return getattr(client, method)(url, data={}, content_type="application/json")
    return getattr(client, method)(url)


def leaks(response, secrets) -> list[str]:
    if getattr(response, "streaming", False):
        body = b"".join(response.streaming_content)
    else:
        body = response.content
    return [secret for secret in secrets if secret.encode() in body]


def test_walk_covers_every_kind_of_route(alice_things):
    names = {name for name, _, _ in endpoints(alice_things)}
    # A sanity floor: the walk really reached each app.
    for expected in ("job-detail", "api-job", "dataset-file", "gallery-item-file"):
        assert expected in names
    assert len(names) >= 40


def test_alice_reaches_her_own_things(alice, alice_things, settings):
    """Without this, bob's 404s below could come from badly filled URLs."""
    settings.GAN_PLAYGROUND_TIMEOUT = 0.2  # no light worker here: do not wait
    settings.GAN_DIRECTIONS_TIMEOUT = 0.2
    client = Client()
    client.force_login(alice)
    missing = []
    for name, params, url in endpoints(alice_things):
        if not params & OBJECT_PARAMS or "action" in params:
            continue
        status = request(client, "get", url).status_code
        if status in (404, 403):
            missing.append((name, url, status))
    assert missing == []


def test_bob_gets_404_for_every_url_of_alice(bob, alice_things):
    client = Client()
    client.force_login(bob)
    problems = []
    for name, params, url in endpoints(alice_things):
        if name in SHARE_LINKS:
            continue
        methods = ("get",) + (UNSAFE if params & OBJECT_PARAMS else ())
        for method in methods:
            response = request(client, method, url)
            status = response.status_code
            if params & OBJECT_PARAMS and status not in (403, 404, 405):
                problems.append((method, url, status))
            if leaked := leaks(response, alice_things["secrets"]):
                problems.append((method, url, f"shows {leaked}"))
    assert problems == []
    # And nothing of alice's was changed or removed by bob's requests.
    for kind in ("job", "dataset", "gallery", "item"):
        thing = alice_things[kind]
        fresh = type(thing).objects.get(pk=thing.pk)
        assert str(fresh) == str(thing)
    assert alice_things["job"].__class__.objects.get(
        pk=alice_things["job"].pk
    ).state == ("finished")


def test_signed_out_gets_the_sign_in_page_or_401(alice_things):
    client = Client()
    problems = []
    for name, _params, url in endpoints(alice_things):
        if name in PUBLIC:
            continue
        for method in ("get", "post"):
            response = request(client, method, url)
            if url.startswith("/api/"):
                ok = response.status_code == 401
            elif name in NOT_FOUND_FOR_VISITORS:
                ok = response.status_code == 404
            else:
                ok = response.status_code == 302 and response.headers[
                    "Location"
                ].startswith("/accounts/login/?next=")
            if not ok or leaks(response, alice_things["secrets"]):
                problems.append((method, url, response.status_code))
    assert problems == []


def test_public_routes_answer_signed_out_without_errors(alice_things):
    client = Client()
    for name, _, url in endpoints(alice_things):
        if name in PUBLIC:
            status = request(client, "get", url).status_code
            # healthz says 503 here: this test starts no worker.
            assert status < 500 or name == "healthz", (url, status)
