"""Playground pages: one per trained model, and its checkpoint download."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils.text import slugify

from ganweb.core.ids import parse_id, parse_step
from ganweb.datasets.synthetic import max_images as synthetic_max_images
from ganweb.gallery.models import GalleryItem
from ganweb.gallery.selectors import galleries_for_user, gallery_item_remix
from ganweb.jobs.selectors import job_for_user
from ganweb.playground import params as p
from ganweb.playground import services
from ganweb.playground.selectors import (
    model_checkpoint_path,
    model_checkpoint_steps,
    model_has_checkpoint,
)


def _owned(request, job_id):
    job = job_for_user(request.user, job_id)
    if job is None:
        raise Http404("no such model")
    return job


def playground(request, job_id: int):
    job = _owned(request, job_id)
    context = {"job": job, "info": None, "problem": ""}
    if not model_has_checkpoint(job):
        context["problem"] = (
            "This job has no checkpoint yet: come back after its first."
        )
        return render(request, "playground/model.html", context, status=404)
    try:
        context["info"] = services.model_describe(job=job)
    except p.PlaygroundError as exc:
        context["problem"] = str(exc)
    context.update(
        checkpoints=model_checkpoint_steps(job),
        galleries=galleries_for_user(request.user),
        remix=_remix(request, job),
        synthetic_limit=synthetic_max_images(),
        limits={
            "max_seed": p.MAX_SEED,
            "max_steps": p.MAX_STEPS,
            "max_seeds": p.MAX_SEEDS_PER_SIDE,
        },
    )
    return render(request, "playground/model.html", context)


def _remix(request, job) -> dict | None:
    """?remix=<gallery item id>: the settings of one of the user's gallery
    items made from this model, for the page to open at (None otherwise)."""
    item_id = parse_id(request.GET.get("remix", ""))
    if item_id is None:
        return None
    item = (
        GalleryItem.objects.filter(pk=item_id, gallery__owner=request.user, job=job)
        .select_related("gallery")
        .first()
    )
    remix = gallery_item_remix(item) if item is not None else None
    if remix is not None:
        remix.update(item=item.pk, title=item.title)
    return remix


def checkpoint_download(request, job_id: int):
    """The latest checkpoint (or ?step=N) of the owner's model, as a download."""
    job = _owned(request, job_id)
    raw = request.GET.get("step") or None
    step = None if raw is None else parse_step(raw)
    if raw is not None and step is None:
        raise Http404("no such checkpoint")
    path = model_checkpoint_path(job, step)
    if not path.is_file():
        raise Http404("no such checkpoint")
    label = "latest" if step is None else f"step{step:07d}"
    name = f"{slugify(job.name) or 'model'}-{job.pk}-{label}.pt"
    response = FileResponse(
        open(path, "rb"),  # noqa: SIM115 - FileResponse closes it
        as_attachment=True,
        filename=name,
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
