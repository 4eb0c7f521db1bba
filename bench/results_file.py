"""Shared by the bench scripts: machine description and RESULTS.md sections.

Each script owns one marked section of bench/RESULTS.md and rewrites only it, so
scripts run at different times keep each other's figures.
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = "# Benchmark results\n\nEach section is written by the script it names.\n"


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import torch

        torch_version = torch.__version__
        gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
        threads = torch.get_num_threads()
    except ImportError:
        torch_version, gpu, threads = "not installed", "no GPU", 0
    return (
        f"{cpu}, {os.cpu_count()} cores ({threads} torch threads), {gpu}, "
        f"torch {torch_version}, Python {platform.python_version()}"
    )


def commit() -> str:
    """HEAD's short hash; GAN_BENCH_COMMIT names it where the tree has no .git
    (a copy sent to a GPU machine)."""
    if os.environ.get("GAN_BENCH_COMMIT"):
        return os.environ["GAN_BENCH_COMMIT"]
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def write_section(name: str, body: str, path: Path = RESULTS) -> None:
    """Replace (or append) the section between <!-- name --> and <!-- /name -->
    of ``path`` (bench/RESULTS.md unless another copy is named)."""
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    text = path.read_text() if path.exists() else HEADER
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        _, after = rest.split(end, 1)
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)
