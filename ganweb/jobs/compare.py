"""Runs side by side: 2-5 of one person's jobs, their curves, their sample
grids at matching steps and the settings that differ.

Another person's id answers exactly as a missing one does (404), so the
page never tells whether a job exists.
"""

from __future__ import annotations

from django.http import Http404

from ganweb.core.ids import parse_id
from ganweb.jobs.selectors import jobs_for_user

MIN_JOBS, MAX_JOBS = 2, 5
SAMPLE_ROWS = 6  # the latest matching steps shown as rows of grids
COLORS = ("#3b3bb8", "#d9480f", "#2b8a3e", "#ae3ec9", "#1098ad")


class CompareError(ValueError):
    """The ids asked for cannot be compared (too few, too many, not ids)."""


def parse_compare_ids(values: list[str]) -> list[int]:
    """Ids from ``?ids=3,5,8`` or ``?ids=3&ids=5``, in order, without repeats."""
    ids = []
    for value in values:
        for part in value.split(","):
            if not part.strip():
                continue
            job_id = parse_id(part.strip())
            if job_id is None:
                raise CompareError(f"'{part.strip()[:20]}' is not a job id")
            if job_id not in ids:
                ids.append(job_id)
    if not MIN_JOBS <= len(ids) <= MAX_JOBS:
        raise CompareError(f"choose {MIN_JOBS} to {MAX_JOBS} jobs to compare")
    return ids


def jobs_to_compare(user, ids: list[int]) -> list:
    """The jobs in the order asked; a 404 if any is missing or not theirs."""
    found = {job.pk: job for job in jobs_for_user(user).filter(pk__in=ids)}
    if len(found) != len(ids):
        raise Http404("no such job")
    return [found[job_id] for job_id in ids]


def settings_diff(jobs: list) -> list[dict]:
    """One row per setting: each job's value and whether they differ;
    differing rows first."""
    rows = [
        {"name": "family", "values": [job.family for job in jobs]},
        {"name": "data", "values": [job.data_title for job in jobs]},
    ]
    keys = sorted({key for job in jobs for key in (job.config or {})})
    rows += [
        {"name": key, "values": [(job.config or {}).get(key, "—") for job in jobs]}
        for key in keys
    ]
    for row in rows:
        row["differs"] = len({repr(v) for v in row["values"]}) > 1
    return sorted(rows, key=lambda row: not row["differs"])


def matching_samples(jobs: list) -> list[dict]:
    """Rows of sample grids: the steps every job drew a grid at (the latest
    SAMPLE_ROWS); when they share none, each job's grid nearest to the first
    job's steps, labelled with the step it really is."""
    grids = [
        dict(job.samples.exclude(image="").values_list("step", "image")) for job in jobs
    ]
    shared = set(grids[0]).intersection(*grids[1:]) if grids else set()
    steps = sorted(shared or grids[0])[-SAMPLE_ROWS:]
    rows = []
    for step in steps:
        cells = []
        for job, grid in zip(jobs, grids, strict=True):
            if not grid:
                cells.append(None)
                continue
            nearest = min(grid, key=lambda s: (abs(s - step), s))
            cells.append({"step": nearest, "url": grid[nearest], "job_name": job.name})
        rows.append({"step": step, "exact": bool(shared), "cells": cells})
    return rows


def compare_payload(jobs: list) -> dict:
    """What the page's script charts: each job's points and figures."""
    return {
        "jobs": [
            {
                "id": job.pk,
                "name": job.name,
                "color": COLORS[index % len(COLORS)],
                "points": [
                    {"step": step, **values}
                    for step, values in job.points.order_by("step").values_list(
                        "step", "values"
                    )
                ],
                "figures": list(job.checkpoints.values("step", "figures")),
            }
            for index, job in enumerate(jobs)
        ]
    }
