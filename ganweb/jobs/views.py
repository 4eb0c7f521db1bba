"""Job pages: list, new-job form, live dashboard and the job's files."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ganweb.core.ids import parse_step
from ganweb.jobs import services
from ganweb.jobs.data_sources import DataSourceError, job_media_dir, resolve_data_source
from ganweb.jobs.devices_online import devices_offered
from ganweb.jobs.families import family_entry, suitable_families
from ganweb.jobs.forms import (
    BASIC_SETTINGS,
    JobDevicesForm,
    JobLabelForm,
    settings_form_class,
    settings_from_form,
)
from ganweb.jobs.models import JobState
from ganweb.jobs.recommend import PASSES, form_initial, recommend
from ganweb.jobs.selectors import (
    job_for_user_or_404,
    job_snapshot,
    jobs_for_user,
    queue_wait_estimate_seconds,
)


def job_list(request):
    state = request.GET.get("state") or None
    return render(
        request,
        "jobs/list.html",
        {
            "jobs": jobs_for_user(request.user, state=state),
            "state": state,
            "states": JobState.values,
        },
    )


def _origin_request(request) -> dict | None:
    """The init-from choice a link or the form carries (None: random weights)."""
    params = request.POST if request.method == "POST" else request.GET
    job_id = params.get("init_from") or ""
    if not job_id:
        return None
    step = parse_step(params.get("step") or "")
    return {"job": job_id, "step": step, "share": params.get("share") or ""}


def _origin_or_404(request, wanted: dict):
    from ganweb.jobs.origins import OriginError, origin_resolve

    try:
        return origin_resolve(user=request.user, origin=wanted)
    except OriginError as exc:
        raise Http404(str(exc)) from exc


def job_train_further(request):
    """Step one of "Train further on another dataset": choose the data."""
    from gan_core.registry import get_family
    from ganweb.datasets.selectors import builtin_summaries, datasets_for_user
    from ganweb.jobs.data_sources import family_suits

    wanted = _origin_request(request)
    if wanted is None:
        raise Http404("choose a model to train further")
    origin = _origin_or_404(request, wanted)
    family = get_family(origin.job.family)
    own = [
        {"data_ref": str(d.pk), "title": d.name, "kind": d.kind}
        for d in datasets_for_user(request.user)
        if d.state == "ready" and family_suits(family, d.kind)
    ]
    builtins = [
        {"data_ref": b["id"], "title": b["name"], "kind": b["kind"]}
        for b in builtin_summaries()
        if family_suits(family, b["kind"])
    ]
    return render(
        request,
        "jobs/train_further.html",
        {"origin": origin, "wanted": wanted, "datasets": own + builtins},
    )


def _own_models(user, family: str, limit: int = 30) -> list:
    """The user's models of ``family`` that have a checkpoint to start from."""
    from ganweb.playground.selectors import model_has_checkpoint

    jobs = jobs_for_user(user).filter(family=family)[: limit * 2]
    return [job for job in jobs if model_has_checkpoint(job)][:limit]


# A start from another model keeps its shape settings; the steps are proposed
# for the new data like any job's.
ORIGIN_NOT_COPIED = {"steps"}


def job_new(request):
    data_ref = request.GET.get("dataset") or request.POST.get("dataset") or ""
    try:
        source = resolve_data_source(user=request.user, data_ref=data_ref)
    except DataSourceError as exc:
        messages.error(request, f"Choose a dataset to train on first ({exc}).")
        return redirect("dataset-list")
    suitable = suitable_families(source.kind)
    advice = recommend(source, suitable)
    wanted = _origin_request(request)
    origin = _origin_or_404(request, wanted) if wanted else None
    family_name = request.GET.get("model") or request.POST.get("model") or advice.family
    if origin is not None:  # a start of one family fixes the family
        family_name = origin.job.family
        suitable = [f for f in suitable if f["name"] == family_name]
    family = family_entry(family_name)
    if family is None or family not in suitable:
        raise Http404("that model family cannot train on this dataset")
    # A preset someone clicked is applied as it is; arriving from a dataset,
    # the form opens on what the data suggests.
    chosen_preset = request.GET.get("preset")
    preset = chosen_preset or (
        advice.preset if family["name"] == advice.family else "quick"
    )
    initial = form_initial(
        family, preset, source, advice.count, propose=not chosen_preset
    )
    if origin is not None:  # its widths and size, so its weights fit
        known = {spec["name"] for spec in family["settings"]} - ORIGIN_NOT_COPIED
        initial.update({k: v for k, v in origin.job.config.items() if k in known})
    form_class = settings_form_class(family["settings"])
    form = form_class(request.POST or None, initial=initial)
    labels = JobLabelForm(request.POST or None)
    devices = JobDevicesForm(request.POST or None, offered=devices_offered())
    if (
        request.method == "POST"
        and form.is_valid()
        and labels.is_valid()
        and devices.is_valid()
    ):
        try:
            job = services.job_create(
                owner=request.user,
                data_ref=source.data_ref,
                family=family["name"],
                config=settings_from_form(form, family["settings"]),
                name=labels.cleaned_data["name"],
                note=labels.cleaned_data["note"],
                origin=origin,
                gpus=devices.cleaned_data["gpus"],
            )
        except services.QueueUnavailable as exc:  # saved: its page says why
            messages.warning(request, str(exc))
            return redirect("job-detail", job_id=exc.job.pk)
        except services.JobError as exc:
            target = next((f for f in (labels, devices) if exc.field in f.fields), form)
            field = exc.field if exc.field in target.fields else None
            target.add_error(field, str(exc))
        else:
            return redirect("job-detail", job_id=job.pk)
    advanced = [f for f in form if f.name not in BASIC_SETTINGS]
    context = {
        "source": source,
        "families": suitable,
        "family": family,
        "preset": preset,
        "advice": advice,
        "form": form,
        "labels": labels,
        "devices": devices,
        "basic_fields": [form[n] for n in BASIC_SETTINGS if n in form.fields],
        "advanced_fields": advanced,
        "advanced_errors": any(f.errors for f in advanced),
        # Said only where the steps are the proposal (not a clicked preset's).
        "proposal": None
        if chosen_preset
        else {"passes": PASSES, "count": advice.count},
        "origin": origin,
        "wanted": wanted,
        "own_models": _own_models(request.user, family["name"]),
    }
    errors = form.errors or labels.errors or devices.errors
    return render(request, "jobs/new.html", context, status=400 if errors else 200)


def job_compare(request):
    """Two to five of the person's runs side by side (``?ids=3,5,8``)."""
    from ganweb.jobs import compare

    try:
        ids = compare.parse_compare_ids(request.GET.getlist("ids"))
    except compare.CompareError as exc:
        messages.error(request, f"{exc}.")
        return redirect("job-list")
    jobs = compare.jobs_to_compare(request.user, ids)
    payload = compare.compare_payload(jobs)
    columns = [
        {"job": job, "color": entry["color"]}
        for job, entry in zip(jobs, payload["jobs"], strict=True)
    ]
    return render(
        request,
        "jobs/compare.html",
        {
            "columns": columns,
            "diff": compare.settings_diff(jobs),
            "sample_rows": compare.matching_samples(jobs),
            "payload": payload,
        },
    )


def job_detail(request, job_id: int):
    job = job_for_user_or_404(request.user, job_id)
    from gan_core.events import event_schema

    return render(
        request,
        "jobs/detail.html",
        {
            "job": job,
            "snapshot": job_snapshot(job),
            "event_schema": event_schema(),
            "wait_estimate": queue_wait_estimate_seconds(job),
        },
    )


@require_POST
def job_new_preflight(request):
    """The job form's "Estimate" button: the same form, answered with JSON."""
    from django.http import JsonResponse

    from ganweb.jobs.preflight import job_preflight

    family = family_entry(request.POST.get("model", ""))
    if family is None:
        return JsonResponse({"error": "unknown model family"}, status=400)
    form = settings_form_class(family["settings"])(request.POST)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        return JsonResponse({"error": f"{field}: {errors[0]}"}, status=400)
    try:
        estimate = job_preflight(
            user=request.user,
            data_ref=request.POST.get("dataset", ""),
            family=family["name"],
            config=settings_from_form(form, family["settings"]),
            gpus=request.POST.get("gpus") or 1,
        )
    except services.JobError as exc:
        return JsonResponse({"error": str(exc), "field": exc.field}, status=exc.status)
    return JsonResponse(estimate)


@require_POST
def job_promote(request, job_id: int):
    """The timeline's Promote button: that checkpoint feeds the playground."""
    job = job_for_user_or_404(request.user, job_id)
    raw = request.POST.get("step", "")
    step = None if raw == "latest" else parse_step(raw)
    try:
        if step is None and raw != "latest":
            raise services.JobError("choose a checkpoint to promote")
        services.job_promote(job=job, step=step)
    except services.JobError as exc:
        messages.error(request, str(exc))
    else:
        messages.info(
            request,
            "The playground now uses the latest checkpoint."
            if step is None
            else f"The playground now uses the checkpoint at step {step}.",
        )
    return redirect("job-detail", job_id=job.pk)


@require_POST
def job_action(request, job_id: int, action: str):
    job = job_for_user_or_404(request.user, job_id)
    try:
        if action == "cancel":
            services.job_cancel(job=job)
            messages.info(request, "Cancelling: the job saves a checkpoint and stops.")
        elif action == "resume":
            services.job_resume(job=job)
            messages.info(request, "Resumed from the last checkpoint.")
        elif action == "rerun":
            child = services.job_rerun(job=job)
            return redirect("job-detail", job_id=child.pk)
        elif action == "delete":
            services.job_delete(job=job)
            messages.info(request, "Job deleted.")
            return redirect("job-list")
        else:
            raise Http404("unknown action")
    except services.QueueUnavailable as exc:  # saved, sent when Redis is back
        messages.warning(request, str(exc))
        return redirect("job-detail", job_id=exc.job.pk)
    except services.JobError as exc:
        messages.error(request, str(exc))
    return redirect("job-detail", job_id=job.pk)


def job_import(request):
    """Upload a checkpoint downloaded from GAN Studio as a model of one's own."""
    from ganweb.jobs.imports import checkpoint_import

    error = ""
    if request.method == "POST":
        try:
            job = checkpoint_import(
                owner=request.user,
                upload=request.FILES.get("file"),
                name=request.POST.get("name", ""),
            )
        except services.JobError as exc:
            error = str(exc)
        else:
            messages.info(request, f"Imported as model {job.pk}.")
            return redirect("job-detail", job_id=job.pk)
    status = 400 if error else 200
    return render(request, "jobs/import.html", {"error": error}, status=status)


def job_file(request, job_id: int, path: str):
    """A sample grid or checkpoint of the owner's job (never anybody else's)."""
    job = job_for_user_or_404(request.user, job_id)
    root = job_media_dir(job.pk).resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise Http404("no such file")
    content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    response = FileResponse(
        open(target, "rb"),  # noqa: SIM115 - FileResponse closes it
        content_type=content_type,
        as_attachment=Path(path).suffix == ".pt",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
