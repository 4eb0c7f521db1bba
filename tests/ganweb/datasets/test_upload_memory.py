"""A large upload does not sit in the web process's memory.

Under daphne a 100 MB multipart POST used to cost the web process about 1.2 GB:
Twisted parsed every form upload into ``request.args`` with the ``email``
package, and daphne then queued the whole body for the application at once.
ganweb.asgi turns the first off and keeps queued body chunks on disk.
"""

from __future__ import annotations

import hashlib
import io
import os
import uuid
import zipfile
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync

from ganweb import devstack
from ganweb.asgi import BodyOnDemandQueue, keep_request_bodies_on_disk
from tests.conftest import _database_url

MB = 1_000_000


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for process {pid}")


def drain(queue: BodyOnDemandQueue, count: int) -> list[dict]:
    async def take():
        return [await queue.get() for _ in range(count)]

    return async_to_sync(take)()


def test_body_chunks_are_read_back_from_the_file_in_order():
    body = os.urandom(50_000)
    content = io.BytesIO(body)
    queue = BodyOnDemandQueue(content)
    size = 8192
    while True:  # what daphne does with a finished request
        chunk = content.read(size)
        queue.put_nowait(
            {"type": "http.request", "body": chunk, "more_body": len(chunk) == size}
        )
        if len(chunk) < size:
            break
    queue.put_nowait({"type": "http.disconnect"})
    messages = drain(queue, queue.qsize())
    assert b"".join(m.get("body", b"") for m in messages) == body
    assert [m["more_body"] for m in messages[:-1]] == [True] * 6 + [False]
    assert messages[-1] == {"type": "http.disconnect"}


def test_empty_body_passes_through_and_closed_file_reads_as_disconnect():
    content = io.BytesIO(b"abc")
    queue = BodyOnDemandQueue(content)
    queue.put_nowait({"type": "http.request", "body": b"", "more_body": False})
    queue.put_nowait({"type": "http.request", "body": b"abc", "more_body": False})
    content.close()  # Twisted closes it when the connection is lost
    first, second = drain(queue, 2)
    assert first == {"type": "http.request", "body": b"", "more_body": False}
    assert second == {"type": "http.disconnect"}


def test_daphne_is_adjusted_once_importing_the_asgi_module():
    from daphne.http_protocol import WebRequest
    from daphne.server import Server

    init, create = WebRequest.__init__, Server.create_application
    assert keep_request_bodies_on_disk() is True
    assert (WebRequest.__init__, Server.create_application) == (init, create)
    assert Server._gan_bodies_on_disk is True


@pytest.fixture
def web_alone(transactional_db, tmp_path, settings):
    """daphne (as `make run` starts it) with its own Redis: the upload's
    processing task is queued where no worker of the session takes it."""
    yield from start_web_alone(tmp_path, settings)


@pytest.fixture
def web_with_small_limit(transactional_db, tmp_path, settings):
    yield from start_web_alone(
        tmp_path, settings, GAN_UPLOAD_MAX_BYTES=str(SMALL_LIMIT)
    )


SMALL_LIMIT = 2 * MB


def start_web_alone(tmp_path, settings, **extra_env):
    logs = tmp_path / "logs"
    redis = devstack.start_redis(devstack.free_port(), tmp_path / "redis", logs)
    settings.MEDIA_ROOT = tmp_path / "media"
    env = dict(
        os.environ,
        REDIS_URL=redis.extra["url"],
        DATABASE_URL=_database_url(),
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        FILE_UPLOAD_TEMP_DIR=str(tmp_path),
        GAN_VAR_DIR=str(tmp_path),
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="ganweb.settings",
        **extra_env,
    )
    try:
        web = devstack.start_web(env, devstack.free_port(), logs)
        try:
            yield web
        finally:
            web.stop(timeout=10)
    finally:
        redis.stop(timeout=10)


def noise_archive(path: Path, megabytes: int) -> None:
    """A stored (uncompressed) zip of random bytes: its size is its size."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for index in range(8):
            with archive.open(f"noise/{index:02d}.png", "w") as member:
                for _ in range(megabytes // 8):
                    member.write(os.urandom(MB))


@pytest.mark.slow
@pytest.mark.integration
def test_a_64_mb_upload_to_live_daphne_keeps_the_web_process_small(
    web_alone, tmp_path, alice
):
    import requests
    from rest_framework.authtoken.models import Token

    from ganweb.datasets.models import Dataset
    from ganweb.datasets.services import ARCHIVE_FILE, UPLOAD_DIR, dataset_dir

    archive = tmp_path / "noise.zip"
    noise_archive(archive, 64)
    size = archive.stat().st_size
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n'
        f"big\r\n--{boundary}\r\nContent-Disposition: form-data; "
        'name="file"; filename="noise.zip"\r\n'
        "Content-Type: application/zip\r\n\r\n"
    ).encode()
    upload = tmp_path / "body"
    with open(upload, "wb") as out, open(archive, "rb") as source:
        out.write(head)
        while chunk := source.read(1 << 20):
            out.write(chunk)
        out.write(f"\r\n--{boundary}--\r\n".encode())

    token = Token.objects.create(user=alice).key
    idle = memory_kib(web_alone.pid, "VmRSS")
    with open(upload, "rb") as stream:  # streamed from disk, with its length
        response = requests.post(
            f"{web_alone.extra['url']}/api/datasets/",
            data=stream,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
            timeout=120,
        )
    peak = memory_kib(web_alone.pid, "VmHWM")
    assert response.status_code == 201, response.text
    dataset = Dataset.objects.get(pk=response.json()["id"])
    stored = dataset_dir(dataset.pk) / UPLOAD_DIR / ARCHIVE_FILE
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == digest
    # Before the fix: about 12x the upload (Twisted's parse), then 1x (the
    # queued body). Now a few chunks at a time.
    growth_mib = (peak - idle) / 1024
    assert growth_mib < size / MB / 4, (
        f"web process grew {growth_mib:.0f} MiB for a {size / MB:.0f} MB upload"
    )


def spooled_bytes(pid: int) -> int:
    """Bytes in the process's open temporary files (Twisted's body spool is an
    unlinked temporary file: only its descriptor shows it)."""
    total = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
            if target.endswith("(deleted)") or "/tmp" in target:
                total += os.stat(fd).st_size
        except OSError:  # closed meanwhile
            continue
    return total


@pytest.mark.integration
@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_is_refused_without_being_stored(
    web_with_small_limit, alice, declared
):
    """Eight times the limit streams in; the server never holds more than the
    limit of it on disk, and answers 413 with the reason."""
    import time

    import requests
    from rest_framework.authtoken.models import Token

    web = web_with_small_limit
    token = Token.objects.create(user=alice).key
    chunk, chunks = b"\0" * (256 * 1024), 64  # 16 MB
    seen = []

    class Body:
        """Streamed in chunks; with a length requests sends Content-Length,
        without one it sends the body chunked."""

        def __iter__(self):
            for index in range(chunks):
                if index % 8 == 7:
                    time.sleep(0.05)  # let the server read what was sent so far
                    seen.append(spooled_bytes(web.pid))
                yield chunk

    class DeclaredBody(Body):
        def __len__(self):
            return len(chunk) * chunks

    data = DeclaredBody() if declared else Body()
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "multipart/form-data; boundary=x",
    }
    response = requests.post(
        f"{web.extra['url']}/api/datasets/", data=data, headers=headers, timeout=60
    )
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "upload too large: the limit is 1.9 MB"
    assert len(seen) == chunks // 8
    assert max(seen) <= SMALL_LIMIT, seen
