"""Structural promises: a pure-PyTorch engine and a whole deployment file."""

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_gan_core_never_imports_django_celery_or_channels():
    offenders = []
    for path in (ROOT / "gan_core").rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            stripped = line.strip()
            if stripped.startswith(("import ", "from ")) and any(
                stripped.split()[1].split(".")[0] == name
                for name in ("django", "celery", "channels")
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {stripped}")
    assert offenders == []


def test_importing_the_engine_loads_no_web_framework():
    code = (
        "import sys, gan_core, gan_core.data.types;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('django', 'celery', 'channels')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"


def test_web_process_does_not_import_torch_at_startup():
    code = (
        "import os, sys; os.environ['DJANGO_SETTINGS_MODULE']='ganweb.settings';"
        "import django; django.setup(); import ganweb.urls, ganweb.asgi;"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_compose_file_has_every_service_with_its_environment():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"web", "worker", "redis", "postgres"} <= set(services)
    for name in ("web", "worker"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert env["MEDIA_ROOT"] == "/data/media"
        assert any(volume.startswith("media:") for volume in services[name]["volumes"])
    worker = services["worker"]
    gpu = worker["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpu["capabilities"] == ["gpu"] and gpu["count"] == 1
    assert "-Q training" in worker["command"] and "-c 1" in worker["command"]
    assert services["worker"]["environment"]["GAN_WORKER_DEVICE"] == "cuda:0"
    multi = services["multi-gpu-worker"]
    assert multi["profiles"] == ["multi-gpu"]  # not started by a plain `up`
    assert multi["environment"]["GAN_WORKER_DEVICES"] == "all"
    gpus = multi["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpus["count"] == "all" and gpus["capabilities"] == ["gpu"]
    assert "-Q training" in multi["command"] and "-c 1" in multi["command"]
    assert "media" in compose["volumes"]


def test_deploy_check_is_clean_with_the_deploy_settings(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "SECRET_KEY": "k" * 64
        + "-not-a-real-deploy-secret-but-long-and-random-enough-0123",
        "DEBUG": "0",
        "SECURE_HTTPS": "1",
        "ALLOWED_HOSTS": "gan.example.com",
        "GAN_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_test_run_keys_its_cache_apart_from_earlier_runs():
    """A Redis that outlives runs (CI's system Redis) must not answer this
    run with an earlier run's cached estimates or lockouts."""
    import os

    from django.conf import settings
    from django.core.cache import cache

    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    assert prefix == os.environ["GAN_CACHE_PREFIX"] and prefix.startswith("test-")
    assert cache.make_key("preflight:x").startswith(prefix + ":")
