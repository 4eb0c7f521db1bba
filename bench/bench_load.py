"""Load on the running stack: 50 live viewers of one job, plus pages and API.

Starts its own embedded Redis, a training worker and daphne on loopback (the
Stack of bench_jobs.py, on a scratch SQLite database), submits a long training
job, then for a bounded time:
  - 50 WebSocket viewers of the job (half with a Bearer token, half with a
    browser session and Origin), each counting the step events it receives;
  - page traffic (the job page, the dashboard) and API traffic (job detail and
    list), from a few concurrent clients.
Records p50/p95 latencies, errors (expected: none), the step events any viewer
missed compared with the others, and whether a reconnect's snapshot (read from
the database) covers the window. Writes the `bench_load` section of
bench/RESULTS.md.

    .venv/bin/python bench/bench_load.py [--seconds 30] [--viewers 50]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_jobs import Stack, percentile  # noqa: E402
from bench.results_file import commit, machine, write_section  # noqa: E402

LOAD_JOB = {
    "steps": 1_000_000,
    "batch_size": 64,
    "seed": 0,
    "sample_every": 500,
    "checkpoint_every": 5000,
}
HTTP_CLIENTS = 4
# Each HTTP client sends one request per this many seconds (people read pages;
# a client looping flat out would only measure how fast it starves training).
HTTP_PAUSE_S = 0.25


class Viewer(threading.Thread):
    """One live viewer: connect, read the snapshot, then every event until told."""

    def __init__(self, stack, job_id: int, headers: dict, origin, stop):
        super().__init__(daemon=True)
        self.stack, self.job_id = stack, job_id
        self.headers, self.origin, self.stop = headers, origin, stop
        self.connect_ms: float | None = None
        self.latencies_ms: list[float] = []
        self.steps: list[int] = []
        self.error = ""

    def run(self) -> None:
        from websockets.sync.client import connect

        url = f"{self.stack.ws_url}/ws/jobs/{self.job_id}/"
        try:
            started = time.perf_counter()
            with connect(
                url,
                origin=self.origin,
                additional_headers=self.headers,
                open_timeout=30,
            ) as socket:
                first = json.loads(socket.recv(timeout=30))
                assert first["type"] == "snapshot", first["type"]
                self.connect_ms = (time.perf_counter() - started) * 1000
                while not self.stop.is_set():
                    try:
                        event = json.loads(socket.recv(timeout=0.5))
                    except TimeoutError:
                        continue
                    if event["type"] == "step":
                        self.steps.append(event["step"])
                        if event.get("sent_at"):
                            self.latencies_ms.append(
                                (time.time() - event["sent_at"]) * 1000
                            )
        except Exception as exc:  # recorded, reported as an error
            self.error = f"{type(exc).__name__}: {exc}"


def session_cookie(user) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}"


def http_traffic(stack, job_id, cookie, stop, results, errors) -> None:
    import requests

    session = requests.Session()
    auth = {"Authorization": f"Bearer {stack.token}"}
    targets = [
        ("page: job", f"/jobs/{job_id}/", {"Cookie": cookie}),
        ("page: dashboard", "/", {"Cookie": cookie}),
        ("api: job detail", f"/api/jobs/{job_id}/", auth),
        ("api: job list", "/api/jobs/", auth),
    ]
    index = 0
    while not stop.is_set():
        name, path, headers = targets[index % len(targets)]
        index += 1
        started = time.perf_counter()
        try:
            response = session.get(stack.url + path, headers=headers, timeout=30)
            ok = response.status_code == 200
        except Exception:
            ok = False
        elapsed = (time.perf_counter() - started) * 1000
        results[name].append(elapsed)
        if not ok:
            errors[name] += 1
        stop.wait(max(0.0, HTTP_PAUSE_S - elapsed / 1000))


def missed_steps(viewers: list[Viewer]) -> tuple[int, int]:
    """Step events some viewer received and another (connected throughout) did
    not, over the window every viewer was listening; and the window's size."""
    listening = [v for v in viewers if v.steps]
    if not listening:
        return 0, 0
    low = max(v.steps[0] for v in listening)
    high = min(v.steps[-1] for v in listening)
    window = set()
    for viewer in listening:
        window |= {step for step in viewer.steps if low <= step <= high}
    missed = sum(
        len(window - {s for s in v.steps if low <= s <= high}) for v in listening
    )
    return missed, len(window)


def snapshot_cover(stack, job_id: int) -> tuple[int, int, int]:
    """A reconnecting viewer's snapshot: points, last step, largest step gap."""
    with stack.socket(job_id) as socket:
        snapshot = json.loads(socket.recv(timeout=30))
    steps = [point["step"] for point in snapshot["points"]]
    gaps = [b - a for a, b in zip(steps, steps[1:], strict=False)] or [0]
    return len(steps), (steps[-1] if steps else 0), max(gaps)


def run(seconds: float, viewer_count: int) -> str:
    with tempfile.TemporaryDirectory() as tmp, Stack(Path(tmp)) as stack:
        from django.contrib.auth.models import User  # Django is set up by now

        job_id = stack.submit("gan", "builtin:ring8", LOAD_JOB)
        cookie = session_cookie(User.objects.get(username="bench"))
        with stack.socket(job_id) as probe:  # wait until it trains, then time it
            idle_rate = steps_per_second(probe, 5.0)
        stop = threading.Event()
        viewers = [
            Viewer(
                stack,
                job_id,
                {"Authorization": f"Bearer {stack.token}"}
                if i % 2
                else {"Cookie": cookie},
                None if i % 2 else stack.url,
                stop,
            )
            for i in range(viewer_count)
        ]
        for viewer in viewers:
            viewer.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(
            v.connect_ms is None and not v.error for v in viewers
        ):
            time.sleep(0.1)
        results, errors = defaultdict(list), defaultdict(int)
        clients = [
            threading.Thread(
                target=http_traffic,
                args=(stack, job_id, cookie, stop, results, errors),
                daemon=True,
            )
            for _ in range(HTTP_CLIENTS)
        ]
        for client in clients:
            client.start()
        load_started = time.monotonic()
        time.sleep(seconds)
        stop.set()
        load_seconds = time.monotonic() - load_started
        for thread in viewers + clients:
            thread.join(timeout=30)
        points, last_point, largest_gap = snapshot_cover(stack, job_id)
    steps = [v.steps for v in viewers if len(v.steps) > 1]
    load_rate = max((s[-1] - s[0] for s in steps), default=0) / load_seconds
    cover = (points, last_point, largest_gap)
    return report(seconds, viewers, results, errors, cover, (idle_rate, load_rate))


def steps_per_second(socket, seconds: float, warm_up: float = 3.0) -> float:
    """Training speed seen on one socket over ``seconds``, after a warm-up."""
    first = warmed = None
    deadline = None
    while True:
        event = json.loads(socket.recv(timeout=120))
        if event["type"] != "step":
            continue
        if first is None and warmed is None:
            warmed = time.monotonic() + warm_up  # start-up work is not the speed
        elif first is None and time.monotonic() >= warmed:
            first, started = event["step"], time.monotonic()
            deadline = started + seconds
        elif first is not None and time.monotonic() >= deadline:
            return (event["step"] - first) / (time.monotonic() - started)


def report(seconds, viewers, results, errors, cover, rates) -> str:
    points, last_point, gap = cover
    idle_rate, load_rate = rates
    connects = [v.connect_ms for v in viewers if v.connect_ms is not None]
    latencies = [ms for v in viewers for ms in v.latencies_ms]
    viewer_errors = [v.error for v in viewers if v.error]
    missed, window = missed_steps(viewers)
    last_seen = max((v.steps[-1] for v in viewers if v.steps), default=0)
    rows = [
        (
            f"{len(viewers)} viewers: connect -> snapshot, p50 / p95",
            f"{percentile(connects, 50):.0f} / {percentile(connects, 95):.0f} ms"
            if connects
            else "n/a",
        ),
        (
            f"step event worker -> viewer, p50 / p95 ({len(latencies)} deliveries)",
            f"{percentile(latencies, 50):.0f} / {percentile(latencies, 95):.0f} ms"
            if latencies
            else "n/a",
        ),
        ("viewer errors", str(len(viewer_errors))),
        (
            f"step events missed by a viewer (window of {window} events, all viewers)",
            str(missed),
        ),
        (
            "reconnect snapshot: metric points / last point step / largest gap",
            f"{points} / {last_point} (viewers last saw {last_seen}) / {gap} steps",
        ),
    ]
    for name in sorted(results):
        values = results[name]
        rows.append(
            (
                f"{name}: p50 / p95 ({len(values)} requests, {errors[name]} errors)",
                f"{percentile(values, 50):.0f} / {percentile(values, 95):.0f} ms",
            )
        )
    rows.append(
        (
            "training steps/sec: alone / under this load",
            f"{idle_rate:.0f} / {load_rate:.0f}",
        )
    )
    table = "\n".join(f"| {a} | {b} |" for a, b in rows)
    notes = ""
    if viewer_errors:
        notes = "\n\nViewer errors: " + "; ".join(sorted(set(viewer_errors))[:5])
    return (
        "## Load: live viewers, pages and API during training "
        "(bench/bench_load.py)\n\n"
        f"Machine: {machine()}; commit {commit()}; SQLite + embedded Redis, one "
        f"CPU training worker and one daphne on the same machine; {seconds:.0f} s "
        f"of load after every viewer connected, {HTTP_CLIENTS} HTTP clients "
        f"each sending a request every {HTTP_PAUSE_S} s (two pages, two API "
        "reads, in turn).\n\n"
        "| figure | value |\n|---|---|\n" + table + notes
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--viewers", type=int, default=50)
    args = parser.parse_args()
    body = run(args.seconds, args.viewers)
    print(body)
    write_section("bench_load", body)


if __name__ == "__main__":
    main()
