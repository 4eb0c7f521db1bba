import pytest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.integration
def test_healthz_reports_database_redis_and_workers_with_devices(live_stack):
    import requests

    response = requests.get(f"{live_stack.url}/healthz", timeout=10)
    body = response.json()
    assert response.status_code == 200, body
    assert body["database"] == "ok"
    assert body["redis"] == "ok"
    by_queue = {
        queue: worker for worker in body["workers"] for queue in worker["queues"]
    }
    assert set(by_queue) >= {"training", "light"}
    assert by_queue["training"]["device"] == "cpu"
    assert by_queue["training"]["name"].startswith("training@")


def test_healthz_is_503_with_the_reason_when_redis_is_down(client, settings):
    from ganweb import devstack

    settings.REDIS_URL = f"redis://127.0.0.1:{devstack.free_port()}/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["redis"].startswith("error: ConnectionError")
