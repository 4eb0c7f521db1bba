"""Dataset pages: list with search, upload, the dataset page and its images."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from ganweb.datasets import selectors, services
from ganweb.datasets.forms import ACCEPT, DatasetRenameForm, DatasetUploadForm
from ganweb.datasets.limits import current_limits, human_bytes
from ganweb.datasets.models import DatasetState
from ganweb.datasets.uploads import install_upload_limits

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tgz", ".gz")


def _owned(request, dataset_id):
    dataset = selectors.dataset_for_user(request.user, dataset_id)
    if dataset is None:
        raise Http404("no such dataset")
    return dataset


def dataset_list(request):
    search = (request.GET.get("q") or "").strip()
    return render(
        request,
        "datasets/list.html",
        {
            "datasets": selectors.datasets_for_user(request.user, search=search),
            "builtins": selectors.builtin_summaries(search),
            "search": search,
        },
    )


def _limits_context() -> dict:
    limits = current_limits()
    return {
        "limits": limits,
        "limits_text": {
            "upload": human_bytes(limits.upload_bytes),
            "unpacked": human_bytes(limits.unpacked_bytes),
            "user_bytes": human_bytes(limits.user_bytes),
        },
    }


@csrf_exempt  # checked below, once our upload handlers are in place
def dataset_new(request):
    limit = install_upload_limits(request) if request.method == "POST" else None
    return _dataset_new(request, limit)


@csrf_protect
def _dataset_new(request, limit):
    form = DatasetUploadForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if limit.refusal is not None:
            status, message = limit.refusal
            form.add_error(None, message)
        elif form.is_valid():
            try:
                dataset = _ingest_from_form(request, form)
            except services.DatasetRejected as exc:
                form.add_error(None, str(exc))
            else:
                return redirect("dataset-detail", dataset_id=dataset.pk)
    context = {"form": form, "accept": ACCEPT, **_limits_context()}
    return render(request, "datasets/new.html", context, status=status)


def _ingest_from_form(request, form):
    uploads = request.FILES.getlist("upload")
    name, pairing = form.cleaned_data["name"], form.cleaned_data.get("pairing", "")
    if len(uploads) == 1 and uploads[0].name.lower().endswith(ARCHIVE_SUFFIXES):
        return services.dataset_ingest(
            owner=request.user, name=name, archive=uploads[0], pairing=pairing
        )
    return services.dataset_ingest(
        owner=request.user, name=name, images=uploads, pairing=pairing
    )


def _bars(pairs: list[tuple[str, int]]) -> list[dict]:
    top = max((count for _, count in pairs), default=0) or 1
    return [
        {"label": label, "count": count, "percent": round(100 * count / top, 1)}
        for label, count in pairs
    ]


def dataset_detail(request, dataset_id: int):
    dataset = _owned(request, dataset_id)
    stats = dataset.stats or {}
    ready = dataset.state == DatasetState.READY
    histogram = [
        (row["label"], row["count"]) for row in stats.get("size_histogram", [])
    ]
    context = {
        "dataset": dataset,
        "ready": ready,
        "stats": stats,
        "class_bars": _bars(list((dataset.classes or {}).items())),
        "size_bars": _bars(histogram),
        "thumbs": stats.get("thumbs", []) if ready else [],
        "suits": selectors.families_for_kind(dataset.kind) if ready else [],
        "same_content": selectors.same_content(dataset),
        "state_event": selectors.dataset_state_event(dataset),
        "rename_form": DatasetRenameForm(initial={"name": dataset.name}),
    }
    return render(request, "datasets/detail.html", context)


def _back(request, dataset):
    if request.POST.get("back") == "list":
        return redirect("dataset-list")
    return redirect("dataset-detail", dataset_id=dataset.pk)


@require_POST
def dataset_rename(request, dataset_id: int):
    dataset = _owned(request, dataset_id)
    form = DatasetRenameForm(request.POST)
    if form.is_valid():
        services.dataset_rename(dataset=dataset, name=form.cleaned_data["name"])
        messages.info(request, "Renamed.")
    else:
        messages.error(request, "A dataset needs a name of at most 200 characters.")
    return _back(request, dataset)


@require_POST
def dataset_delete(request, dataset_id: int):
    dataset = _owned(request, dataset_id)
    try:
        services.dataset_delete(dataset=dataset)
    except services.DatasetInUse as exc:
        messages.error(request, str(exc))
        return _back(request, dataset)
    messages.info(request, f"Deleted '{dataset.name}' and its files.")
    return redirect("dataset-list")


def dataset_file(request, dataset_id: str, name: str):
    """The preview grid or a thumbnail: our own PNGs, for the owner only."""
    dataset = _owned(request, dataset_id)
    path = services.dataset_dir(dataset.pk) / name
    if dataset.state != DatasetState.READY or not path.is_file():
        raise Http404("no such file")
    response = FileResponse(open(path, "rb"), content_type="image/png")  # noqa: SIM115
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response
