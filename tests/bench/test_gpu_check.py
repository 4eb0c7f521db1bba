"""bench/gpu_check.py's dry run: every family and case exercised on the CPU,
fp16 skipped with a message, nothing written to RESULTS.md."""

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


def _load(monkeypatch):
    spec = importlib.util.spec_from_file_location(
        "gpu_check", ROOT / "bench" / "gpu_check.py"
    )
    gpu_check = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "gpu_check", gpu_check)  # for its dataclass
    spec.loader.exec_module(gpu_check)
    return gpu_check


def test_only_runs_the_matching_cases_and_names_them(capsys, monkeypatch):
    gpu_check = _load(monkeypatch)
    only = "^progan .* (fp32|fp16) compile=False$"
    assert gpu_check.main(["--dry-run", "--only", only]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| progan")]
    assert len(rows) == 2 and "| fp32 | no |" in rows[0] and "| fp16 |" in rows[1]
    assert not [line for line in out.splitlines() if line.startswith("| dcgan")]
    assert f"--only '{only}'" in out
    assert gpu_check.main(["--dry-run", "--only", "no such case"]) == 2


@pytest.mark.slow
def test_the_dry_run_trains_every_family_and_writes_nothing(capsys, monkeypatch):
    gpu_check = _load(monkeypatch)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a shared machine: one thread, as tests/gan_core
    try:
        _check_dry_run(gpu_check, capsys)
    finally:
        torch.set_num_threads(threads)


def _check_dry_run(gpu_check, capsys):
    from gan_core.registry import list_families

    results = ROOT / "bench" / "RESULTS.md"
    before = results.read_text()
    assert gpu_check.main(["--dry-run"]) == 0
    out = capsys.readouterr().out
    assert results.read_text() == before
    rows = [line for line in out.splitlines() if line.startswith("| ")][2:]
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
    by = {(c[0].split()[0], c[0].split()[1], c[1], c[2]): c[-1] for c in cells}
    families = {f.name for f in list_families()}
    assert {key[0] for key in by} == families
    for (family, size, precision, compiled), status in by.items():
        if precision == "fp32":
            assert status == "ok", (family, size, status)
        elif precision == "fp16":
            assert status == "skipped: fp16 needs CUDA (its grad scaler)"
        elif compiled == "yes":
            assert status.startswith("skipped: compile on CPU")
        else:  # bf16 runs, and a failure is recorded, not raised
            assert status == "ok" or status.startswith("failed:"), status
    sizes = sorted(int(k[1]) for k in by if k[0] == "stylegan2" and k[2] == "fp32")
    assert sizes == [16, 32, 64]  # stand-ins for 64, 128 and 256 px
    assert "no GPU" in out and "12.8-13.7" not in out  # reference beside GPU runs
