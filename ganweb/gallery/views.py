"""Gallery pages: the owner's (edit, reorder, share) and the shared read-only one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from ganweb.gallery import services
from ganweb.gallery.models import Gallery, GalleryItem
from ganweb.gallery.selectors import (
    MISSING,
    REMIXABLE_ACTIONS,
    REVOKED,
    galleries_for_user,
    gallery_by_token,
    gallery_for_user,
    gallery_item_for_user,
    gallery_item_path,
)


def _owned(request, gallery_id) -> Gallery:
    gallery = gallery_for_user(request.user, gallery_id)
    if gallery is None:
        raise Http404("no such gallery")
    return gallery


def _owned_item(request, gallery_id, item_id) -> GalleryItem:
    item = gallery_item_for_user(request.user, gallery_id, item_id)
    if item is None:
        raise Http404("no such item")
    return item


def _file_response(item: GalleryItem) -> FileResponse:
    path = gallery_item_path(item)
    if not path.is_file():
        raise Http404("the file is gone")
    response = FileResponse(open(path, "rb"), content_type=item.content_type)  # noqa: SIM115
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _zip_response(gallery: Gallery) -> FileResponse:
    name = f"{slugify(gallery.title) or 'gallery'}.zip"
    response = FileResponse(
        services.gallery_zip(gallery=gallery),
        as_attachment=True,
        filename=name,
        content_type="application/zip",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def gallery_list(request):
    if request.method == "POST":
        try:
            gallery = services.gallery_create(
                owner=request.user,
                title=request.POST.get("title", ""),
                description=request.POST.get("description", ""),
            )
        except services.GalleryError as exc:
            messages.error(request, str(exc))
        else:
            return redirect("gallery-detail", gallery_id=gallery.pk)
    return render(
        request, "gallery/list.html", {"galleries": galleries_for_user(request.user)}
    )


@login_not_required  # 404, not a sign-in redirect, for visitors
def gallery_detail(request, gallery_id: int):
    gallery = _owned(request, gallery_id)
    link = gallery.active_link
    share_url = (
        request.build_absolute_uri(reverse("gallery-shared", args=[link.token]))
        if link is not None
        else ""
    )
    return render(
        request,
        "gallery/detail.html",
        {
            "gallery": gallery,
            "items": gallery.items.all(),
            "share_url": share_url,
            "remixable": REMIXABLE_ACTIONS,
        },
    )


@require_POST
def gallery_edit(request, gallery_id: int):
    gallery = _owned(request, gallery_id)
    try:
        services.gallery_update(
            gallery=gallery,
            title=request.POST.get("title", gallery.title),
            description=request.POST.get("description", gallery.description),
        )
    except services.GalleryError as exc:
        messages.error(request, str(exc))
    return redirect("gallery-detail", gallery_id=gallery.pk)


@require_POST
def gallery_delete(request, gallery_id: int):
    services.gallery_delete(gallery=_owned(request, gallery_id))
    messages.info(request, "Gallery deleted.")
    return redirect("gallery-list")


@require_POST
def gallery_share(request, gallery_id: int):
    services.gallery_share(gallery=_owned(request, gallery_id))
    messages.info(request, "Anyone with the link can now see this gallery.")
    return redirect("gallery-detail", gallery_id=gallery_id)


@require_POST
def gallery_unshare(request, gallery_id: int):
    services.gallery_unshare(gallery=_owned(request, gallery_id))
    messages.info(request, "The link is revoked: it now says “no longer shared”.")
    return redirect("gallery-detail", gallery_id=gallery_id)


@login_not_required  # 404, not a sign-in redirect, for visitors
def gallery_download(request, gallery_id: int):
    return _zip_response(_owned(request, gallery_id))


@login_not_required  # 404, not a sign-in redirect, for visitors
def item_file(request, gallery_id: int, item_id: int):
    return _file_response(_owned_item(request, gallery_id, item_id))


@require_POST
def item_edit(request, gallery_id: int, item_id: int):
    item = _owned_item(request, gallery_id, item_id)
    try:
        services.gallery_item_update(
            item=item,
            title=request.POST.get("title", item.title),
            caption=request.POST.get("caption", item.caption),
        )
    except services.GalleryError as exc:
        messages.error(request, str(exc))
    return redirect("gallery-detail", gallery_id=gallery_id)


@require_POST
def item_move(request, gallery_id: int, item_id: int):
    item = _owned_item(request, gallery_id, item_id)
    offset = -1 if request.POST.get("direction") == "up" else 1
    services.gallery_item_move(item=item, offset=offset)
    return redirect("gallery-detail", gallery_id=gallery_id)


@require_POST
def item_delete(request, gallery_id: int, item_id: int):
    services.gallery_item_delete(item=_owned_item(request, gallery_id, item_id))
    messages.info(request, "Removed from the gallery.")
    return redirect("gallery-detail", gallery_id=gallery_id)


# -- shared by link: read-only, no sign-in -------------------------------------


def _shared(request, token: str) -> Gallery:
    gallery, state = gallery_by_token(token)
    if state == REVOKED:
        raise _Gone
    if state == MISSING:
        raise Http404("no such shared gallery")
    return gallery


class _Gone(Exception):
    """A revoked link: answered 410 by the views below."""


def _gone(request):
    return render(request, "gallery/gone.html", status=410)


@login_not_required
def shared_gallery(request, token: str):
    try:
        gallery = _shared(request, token)
    except _Gone:
        return _gone(request)
    items = list(gallery.items.all())
    cover = next((i for i in items if i.content_type == "image/png"), None)
    cover = cover or (items[0] if items else None)
    og_image = (
        request.build_absolute_uri(
            reverse("gallery-shared-item", args=[token, cover.pk])
        )
        if cover
        else ""
    )
    response = render(
        request,
        "gallery/shared.html",
        {
            "gallery": gallery,
            "items": items,
            "token": token,
            "og_image": og_image,
            "page_url": request.build_absolute_uri(),
        },
    )
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_not_required
def shared_item_file(request, token: str, item_id: int):
    try:
        gallery = _shared(request, token)
    except _Gone:
        return _gone(request)
    item = gallery.items.filter(pk=item_id).first()
    if item is None:
        raise Http404("no such item")
    return _file_response(item)


@login_not_required
def shared_download(request, token: str):
    try:
        gallery = _shared(request, token)
    except _Gone:
        return _gone(request)
    return _zip_response(gallery)
