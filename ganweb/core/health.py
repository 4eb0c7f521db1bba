"""Health of the parts a training job needs: the database, Redis and the workers."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import connection

WORKER_REPLY_TIMEOUT_S = 1.0


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not ok", with its reason
        return f"error: {exc.__class__.__name__}: {exc}"
    return "ok"


def check_redis() -> str:
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1.0)
        client.ping()
    except Exception as exc:
        return f"error: {exc.__class__.__name__}: {exc}"
    return "ok"


def online_workers() -> list[dict]:
    """Ask every Celery worker for its device and queues (remote control)."""
    from workers.celery_app import app

    replies = app.control.broadcast(
        "device_info", reply=True, timeout=WORKER_REPLY_TIMEOUT_S
    )
    workers = []
    for reply in replies or []:
        for name, info in reply.items():
            if "error" in info:  # the worker answered but could not say
                info = {"device": f"error: {info['error']}", "queues": []}
            workers.append(
                {
                    "name": name,
                    "queues": info.get("queues", []),
                    "device": info.get("device"),
                    "devices": info.get("devices") or [info.get("device")],
                }
            )
    return sorted(workers, key=lambda worker: worker["name"])


def health_report() -> tuple[dict, bool]:
    report = {"database": check_database(), "redis": check_redis(), "workers": []}
    if report["redis"] == "ok":
        try:
            report["workers"] = online_workers()
        except Exception as exc:
            report["workers_error"] = f"{exc.__class__.__name__}: {exc}"
    healthy = (
        report["database"] == "ok"
        and report["redis"] == "ok"
        and any(worker["queues"] for worker in report["workers"])
    )
    if report["redis"] == "ok" and not report["workers"]:
        report.setdefault("workers_error", "no Celery worker answered")
    return report, healthy
