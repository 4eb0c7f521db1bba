import pytest

pytestmark = pytest.mark.django_db


def test_sign_up_creates_the_account_and_signs_in(client, django_user_model):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "carol",
            "password1": "a-long-passphrase-9",
            "password2": "a-long-passphrase-9",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert django_user_model.objects.filter(username="carol").exists()
    assert b"Welcome, carol" in client.get("/").content


def test_sign_up_shows_field_errors_and_creates_nothing(client, django_user_model):
    response = client.post(
        "/accounts/signup/", {"username": "carol", "password1": "x", "password2": "y"}
    )
    assert response.status_code == 400
    assert b"password fields didn" in response.content
    assert not django_user_model.objects.filter(username="carol").exists()


def test_pages_need_a_signed_in_user(client):
    response = client.get("/jobs/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login/?next=/jobs/")


def test_visitors_see_the_landing_page_and_members_their_dashboard(client, alice):
    assert b"Start for free" in client.get("/").content
    client.force_login(alice)
    assert b"Welcome, alice" in client.get("/").content


def test_sign_in_then_sign_out(client, alice):
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    assert client.get("/jobs/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/jobs/").status_code == 302


def test_wrong_password_does_not_sign_in(client, alice):
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "nope"}
    )
    assert response.status_code == 200
    assert client.get("/jobs/").status_code == 302
