"""Training jobs through the real stack: queue latency, event latency, overhead.

Starts an embedded Redis, a training worker and daphne on free ports against a
scratch SQLite database, then measures
  1. submit -> first step event at the browser, with an idle worker;
  2. p50/p95 latency of progress events from the worker to a WebSocket client;
  3. training images/sec through the worker vs the same run from the CLI.
Writes the `bench_jobs` section of bench/RESULTS.md.

    .venv/bin/python bench/bench_jobs.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results_file import commit, machine, write_section  # noqa: E402
from bench.stack import BenchStack  # noqa: E402

THROUGHPUT_CONFIG = {
    "image_size": 32,
    "batch_size": 64,
    "steps": 150,
    "seed": 0,
    "sample_every": 100,
    "checkpoint_every": 300,
}
LATENCY_CONFIG = {
    "steps": 3000,
    "batch_size": 64,
    "seed": 0,
    "sample_every": 500,
    "checkpoint_every": 3000,
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


class Stack(BenchStack):
    """The bench stack with one training worker, and the calls this bench makes."""

    def __init__(self, workdir: Path):
        super().__init__(workdir, workers=("training",))

    def submit(self, model: str, dataset: str, config: dict) -> int:
        import requests

        response = requests.post(
            f"{self.url}/api/jobs/",
            json={"dataset": dataset, "model": model, "config": config},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["id"]

    def socket(self, job_id: int):
        from websockets.sync.client import connect

        return connect(
            f"{self.ws_url}/ws/jobs/{job_id}/",
            additional_headers={"Authorization": f"Bearer {self.token}"},
        )


def time_to_first_step(stack: Stack, repeats: int) -> list[float]:
    times = []
    for seed in range(repeats):
        started = time.perf_counter()
        job_id = stack.submit("gan", "builtin:ring8", {"steps": 50, "seed": seed})
        with stack.socket(job_id) as socket:
            while json.loads(socket.recv(timeout=60))["type"] != "step":
                pass
            times.append(time.perf_counter() - started)
            while json.loads(socket.recv(timeout=60))["type"] not in (
                "finished",
                "failed",
            ):
                pass
    return times


def event_latencies(stack: Stack) -> list[float]:
    """Worker stamps ``sent_at`` when publishing; the client subtracts on arrival."""
    job_id = stack.submit("gan", "builtin:ring8", LATENCY_CONFIG)
    latencies = []
    with stack.socket(job_id) as socket:
        while True:
            event = json.loads(socket.recv(timeout=120))
            if event.get("sent_at") and event["type"] == "step":
                latencies.append((time.time() - event["sent_at"]) * 1000)
            if event["type"] in ("finished", "failed"):
                return latencies


def loop_seconds_from_metrics(metrics_file: Path) -> float:
    rows = [json.loads(line) for line in metrics_file.read_text().splitlines() if line]
    return next(row["seconds"] for row in rows if row.get("type") == "finished")


def worker_run_seconds(stack: Stack) -> float:
    """The trainer's loop time for one job run through the worker."""
    job_id = stack.submit("dcgan", "builtin:mnist", THROUGHPUT_CONFIG)
    with stack.socket(job_id) as socket:
        while True:
            event = json.loads(socket.recv(timeout=900))
            if event["type"] == "finished":
                return event["seconds"]
            if event["type"] == "failed":
                raise RuntimeError(event["reason"])


def cli_run_seconds(out: Path) -> float:
    """The same run from `python -m gan_core train`."""
    args = [
        sys.executable,
        "-m",
        "gan_core",
        "train",
        "--model",
        "dcgan",
        "--data",
        "builtin:mnist",
        "--out",
        str(out),
        "--device",
        "cpu",
    ]
    for key, value in THROUGHPUT_CONFIG.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    subprocess.run(args, cwd=ROOT, check=True, capture_output=True)
    return loop_seconds_from_metrics(out / "metrics.jsonl")


def worker_vs_cli(stack: Stack, workdir: Path, rounds: int) -> tuple[float, float]:
    """Images/sec through the worker and from the CLI, best of alternating runs
    (the fastest run is the least disturbed by other work on the machine)."""
    worker, cli = [], []
    for index in range(rounds):
        worker.append(worker_run_seconds(stack))
        cli.append(cli_run_seconds(workdir / f"cli-run-{index}"))
    images = THROUGHPUT_CONFIG["steps"] * THROUGHPUT_CONFIG["batch_size"]
    return images / min(worker), images / min(cli)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Stack(Path(tmp)) as stack:
        first = time_to_first_step(stack, 2 if args.quick else 5)
        latencies = event_latencies(stack)
        worker_rate, cli_rate = worker_vs_cli(stack, Path(tmp), 2 if args.quick else 3)
    overhead = (cli_rate - worker_rate) / cli_rate * 100
    rows = [
        (
            f"submit -> first step event (idle worker), median of {len(first)}",
            f"{statistics.median(first):.2f} s (max {max(first):.2f} s)",
            "< 3 s",
        ),
        (
            "progress event worker -> WebSocket client, p50",
            f"{percentile(latencies, 50):.1f} ms",
            "",
        ),
        (
            f"progress event worker -> WebSocket client, p95 ({len(latencies)} events)",
            f"{percentile(latencies, 95):.1f} ms",
            "< 100 ms",
        ),
        ("DCGAN 32 px batch 64 images/sec, CLI", f"{cli_rate:.1f}", ""),
        (
            "DCGAN 32 px batch 64 images/sec, through the worker",
            f"{worker_rate:.1f}",
            "",
        ),
        ("worker overhead", f"{overhead:+.1f} %", "at most 5 %"),
    ]
    table = "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
    body = (
        "## Training jobs through the stack (bench/bench_jobs.py)\n\n"
        f"Machine: {machine()}; commit {commit()}; SQLite + embedded Redis, "
        "one CPU worker.\n\n| figure | value | target |\n|---|---|---|\n" + table
    )
    print(body)
    write_section("bench_jobs", body)


if __name__ == "__main__":
    main()
