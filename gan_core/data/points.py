"""2D point sets: the Gaussian mixtures of the mode-collapse literature and CSVs.

The ring and the grid follow VEEGAN (Srivastava et al. 2017, section 5.1) and
PacGAN (Lin et al. 2018, section 5.1): equal-weight isotropic Gaussians whose
means (``modes``) are known, so evaluation can count which modes a generator
covers (gan_core.evaluation.points).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import torch

from gan_core.data.errors import DataError
from gan_core.data.types import PointData, tensor_fingerprint

MIN_POINTS = 2


def ring_modes(k: int = 8, radius: float = 1.0) -> torch.Tensor:
    """k means evenly spaced on a circle, the first at (radius, 0): float32 [k, 2]."""
    angles = torch.arange(k, dtype=torch.float64) * (2 * math.pi / k)
    modes = torch.stack([angles.cos(), angles.sin()], dim=1) * radius
    return modes.float()


def grid_modes(side: int = 5, spacing: float = 2.0) -> torch.Tensor:
    """side x side means centred on 0, ``spacing`` apart: float32 [side**2, 2].

    side 5 and spacing 2 give {-4, -2, 0, 2, 4}^2; row-major in x, then y.
    """
    axis = (torch.arange(side, dtype=torch.float64) - (side - 1) / 2) * spacing
    xs, ys = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1).float()


def sample_mixture(
    modes: torch.Tensor, std: float, n: int, seed: int = 0
) -> torch.Tensor:
    """n points from the equal-weight mixture of N(mode, std^2 I): float32 [n, 2]."""
    gen = torch.Generator().manual_seed(int(seed))
    pick = torch.randint(modes.shape[0], (n,), generator=gen)
    noise = torch.randn(n, 2, generator=gen, dtype=torch.float64) * std
    return (modes.double()[pick] + noise).float()


def make_ring(
    n: int = 100_000,
    k: int = 8,
    radius: float = 1.0,
    std: float = 0.01,
    seed: int = 0,
    fingerprint: str = "",
) -> PointData:
    """The ring mixture: k Gaussians of ``std`` on a circle of ``radius``."""
    modes = ring_modes(k, radius)
    points = sample_mixture(modes, std, n, seed)
    meta = {"mixture": "ring", "k": k, "radius": radius, "seed": seed}
    return PointData(points, modes, std, fingerprint, meta)


def make_grid(
    n: int = 100_000,
    side: int = 5,
    spacing: float = 2.0,
    std: float = 0.05,
    seed: int = 0,
    fingerprint: str = "",
) -> PointData:
    """The grid mixture: side x side Gaussians of ``std``, ``spacing`` apart."""
    modes = grid_modes(side, spacing)
    points = sample_mixture(modes, std, n, seed)
    meta = {"mixture": "grid", "side": side, "spacing": spacing, "seed": seed}
    return PointData(points, modes, std, fingerprint, meta)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _parse_row(row: list[str], where: str) -> tuple[float, float]:
    cells = [c.strip() for c in row]
    if len(cells) != 2:
        raise ValueError(f"{where}: expected 2 columns (x,y), found {len(cells)}")
    try:
        x, y = float(cells[0]), float(cells[1])
    except ValueError:
        raise ValueError(f"{where}: expected two numbers x,y, got {row!r}") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError(f"{where}: x and y must be finite numbers")
    return x, y


def load_points_csv(path: str | Path) -> PointData:
    """A user's CSV of 2D points, one ``x,y`` row each, as PointData.

    A first row that is not numeric is taken as a header; blank lines and lines
    starting with ``#`` are skipped. The modes of a user's data are unknown
    (``modes`` is None). Raises DataError naming the file and line of the first
    problem (missing file, wrong column count, non-numbers, too few points).
    """
    path = Path(path)
    rows: list[tuple[float, float]] = []
    seen_data = False
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            for i, row in enumerate(csv.reader(fh), start=1):
                if not any(c.strip() for c in row) or row[0].lstrip().startswith("#"):
                    continue
                where = f"{path.name} line {i}"
                try:
                    rows.append(_parse_row(row, where))
                except ValueError as exc:
                    if not seen_data and not any(map(_is_number, row)):
                        seen_data = True  # a header row such as "x,y"
                        continue
                    raise DataError(str(exc)) from None
                seen_data = True
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot read points file {path}: {exc}") from exc
    if len(rows) < MIN_POINTS:
        raise DataError(
            f"too few points in {path.name}: found {len(rows)}, need {MIN_POINTS}"
        )
    points = torch.tensor(rows, dtype=torch.float32)
    meta = {"source": "csv", "file": path.name}
    return PointData(points, None, 0.0, tensor_fingerprint(points), meta)
