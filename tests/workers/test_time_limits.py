"""Every task but training runs under a time limit (workers/time_limits.py)."""

from __future__ import annotations

from django.conf import settings

from workers.celery_app import app


def limited_tasks() -> dict:
    app.loader.import_default_modules()
    app.finalize()
    return {
        name: task
        for name, task in app.tasks.items()
        if name.startswith("workers.") and not name.startswith("workers.tasks.training")
    }


def test_every_light_and_interactive_task_has_a_soft_and_a_hard_limit():
    tasks = limited_tasks()
    assert "workers.tasks.datasets.process_dataset" in tasks
    for name, task in tasks.items():
        assert task.soft_time_limit and task.soft_time_limit > 0, name
        assert task.time_limit > task.soft_time_limit, name


def test_playground_tasks_stop_when_the_web_stops_waiting():
    tasks = limited_tasks()
    for name in (
        "workers.tasks.playground.render",
        "workers.tasks.playground.describe",
    ):
        assert tasks[name].soft_time_limit == settings.GAN_PLAYGROUND_TIMEOUT
    preflight = tasks["workers.tasks.preflight.preflight"]
    assert preflight.soft_time_limit == settings.GAN_PREFLIGHT_TIMEOUT


def test_training_runs_without_a_celery_time_limit():
    task = app.tasks["workers.tasks.training.train_job"]
    assert task.soft_time_limit is None and task.time_limit is None
