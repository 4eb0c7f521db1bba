"""Gallery API: thin handlers over the gallery services and selectors."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.views import APIView

from ganweb.core.json_body import GuardedJSONParser
from ganweb.gallery import services
from ganweb.gallery.models import Gallery, GalleryItem
from ganweb.gallery.selectors import (
    galleries_for_user,
    gallery_for_user,
    gallery_item_for_user,
)
from ganweb.playground.params import ACTIONS, PlaygroundError, playground_params
from ganweb.playground.selectors import model_for_user

ErrorSerializer = inline_serializer("GalleryError", {"error": serializers.CharField()})
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such gallery of yours.")


class GalleryRequest(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class GalleryPatchRequest(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class ItemCreateRequest(serializers.Serializer):
    model = serializers.IntegerField(help_text="The job id of the model.")
    action = serializers.ChoiceField(choices=ACTIONS)
    params = serializers.DictField(
        required=False,
        default=dict,
        help_text="The settings of the playground call, as its endpoint takes "
        "them. For translate send multipart: these fields plus image, direction.",
    )
    title = serializers.CharField(max_length=200)
    caption = serializers.CharField(required=False, allow_blank=True, default="")


class ItemPatchRequest(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    caption = serializers.CharField(required=False, allow_blank=True)


class OrderRequest(serializers.Serializer):
    items = serializers.ListField(child=serializers.IntegerField())


def error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def item_data(request, item: GalleryItem) -> dict:
    url = reverse("gallery-item-file", args=[item.gallery_id, item.pk])
    return {
        "id": item.pk,
        "position": item.position,
        "title": item.title,
        "caption": item.caption,
        "kind": item.kind,
        "content_type": item.content_type,
        "settings": item.settings,
        "url": request.build_absolute_uri(url),
    }


def gallery_data(request, gallery: Gallery) -> dict:
    link = gallery.active_link
    share_url = None
    if link is not None:
        share_url = request.build_absolute_uri(
            reverse("gallery-shared", args=[link.token])
        )
    return {
        "id": gallery.pk,
        "title": gallery.title,
        "description": gallery.description,
        "share_url": share_url,
        "items": [item_data(request, item) for item in gallery.items.all()],
    }


def _first_error(form) -> str:
    field, problems = next(iter(form.errors.items()))
    return f"{field}: {problems[0]}"


class GalleryListView(APIView):
    @extend_schema(operation_id="galleries_list", responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return JsonResponse(
            [gallery_data(request, g) for g in galleries_for_user(request.user)],
            safe=False,
        )

    @extend_schema(
        request=GalleryRequest,
        responses={201: OpenApiTypes.OBJECT, 400: ErrorSerializer},
    )
    def post(self, request):
        form = GalleryRequest(data=request.data)
        if not form.is_valid():
            return error(_first_error(form))
        try:
            gallery = services.gallery_create(owner=request.user, **form.validated_data)
        except services.GalleryError as exc:
            return error(str(exc))
        return JsonResponse(gallery_data(request, gallery), status=201)


class GalleryDetailView(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT, 404: NOT_FOUND})
    def get(self, request, gallery_id: int):
        gallery = gallery_for_user(request.user, gallery_id)
        if gallery is None:
            return error("no such gallery", 404)
        return JsonResponse(gallery_data(request, gallery))

    @extend_schema(
        request=GalleryPatchRequest,
        responses={200: OpenApiTypes.OBJECT, 400: ErrorSerializer, 404: NOT_FOUND},
    )
    def patch(self, request, gallery_id: int):
        gallery = gallery_for_user(request.user, gallery_id)
        if gallery is None:
            return error("no such gallery", 404)
        form = GalleryPatchRequest(data=request.data)
        if not form.is_valid():
            return error(_first_error(form))
        try:
            services.gallery_update(gallery=gallery, **form.validated_data)
        except services.GalleryError as exc:
            return error(str(exc))
        return JsonResponse(gallery_data(request, gallery))

    @extend_schema(responses={204: None, 404: NOT_FOUND})
    def delete(self, request, gallery_id: int):
        gallery = gallery_for_user(request.user, gallery_id)
        if gallery is None:
            return error("no such gallery", 404)
        services.gallery_delete(gallery=gallery)
        return HttpResponse(status=204)


class ItemCreateView(APIView):
    parser_classes = [GuardedJSONParser, MultiPartParser, FormParser]

    @extend_schema(
        summary="Save a playground result (drawn again from its settings)",
        request={
            "application/json": ItemCreateRequest,
            "multipart/form-data": OpenApiTypes.OBJECT,
        },
        responses={201: OpenApiTypes.OBJECT, 400: ErrorSerializer, 404: NOT_FOUND},
    )
    def post(self, request, gallery_id: int):
        gallery = gallery_for_user(request.user, gallery_id)
        if gallery is None:
            return error("no such gallery", 404)
        multipart = request.content_type.startswith("multipart/")
        form = ItemCreateRequest(data=request.data)
        if not form.is_valid():
            return error(_first_error(form))
        data = form.validated_data
        job = model_for_user(request.user, data["model"])
        if job is None:
            return error("model: no such model", 404)
        try:
            params = playground_params(
                action=data["action"],
                data=request.data if multipart else data["params"],
            )
            item = services.gallery_item_create(
                gallery=gallery,
                job=job,
                action=data["action"],
                params=params,
                title=data["title"],
                caption=data["caption"],
            )
        except PlaygroundError as exc:
            return error(str(exc), exc.status)
        except services.GalleryError as exc:
            return error(str(exc))
        return JsonResponse(item_data(request, item), status=201)


class ItemDetailView(APIView):
    @extend_schema(
        request=ItemPatchRequest,
        responses={200: OpenApiTypes.OBJECT, 400: ErrorSerializer, 404: NOT_FOUND},
    )
    def patch(self, request, gallery_id: int, item_id: int):
        item = gallery_item_for_user(request.user, gallery_id, item_id)
        if item is None:
            return error("no such item", 404)
        form = ItemPatchRequest(data=request.data)
        if not form.is_valid():
            return error(_first_error(form))
        try:
            services.gallery_item_update(item=item, **form.validated_data)
        except services.GalleryError as exc:
            return error(str(exc))
        return JsonResponse(item_data(request, item))

    @extend_schema(responses={204: None, 404: NOT_FOUND})
    def delete(self, request, gallery_id: int, item_id: int):
        item = gallery_item_for_user(request.user, gallery_id, item_id)
        if item is None:
            return error("no such item", 404)
        services.gallery_item_delete(item=item)
        return HttpResponse(status=204)


class OrderView(APIView):
    @extend_schema(
        summary="Reorder the items (every item id once, in the new order)",
        request=OrderRequest,
        responses={200: OpenApiTypes.OBJECT, 400: ErrorSerializer, 404: NOT_FOUND},
    )
    def post(self, request, gallery_id: int):
        gallery = gallery_for_user(request.user, gallery_id)
        if gallery is None:
            return error("no such gallery", 404)
        form = OrderRequest(data=request.data)
        if not form.is_valid():
            return error(_first_error(form))
        try:
            services.gallery_reorder(
                gallery=gallery, item_ids=form.validated_data["items"]
            )
        except services.GalleryError as exc:
            return error(str(exc))
        return JsonResponse(gallery_data(request, gallery))


class ShareView(APIView):
    @extend_schema(
        summary="Make (or return) the gallery's share link",
        request=None,
        responses={200: OpenApiTypes.OBJECT, 404: NOT_FOUND},
    )
    def post(self, request, gallery_id: int):
        gallery = gallery_for_user(request.user, gallery_id)
        if gallery is None:
            return error("no such gallery", 404)
        services.gallery_share(gallery=gallery)
        return JsonResponse(gallery_data(request, gallery))

    @extend_schema(
        summary="Revoke the share link: it answers 410 from now on",
        responses={200: OpenApiTypes.OBJECT, 404: NOT_FOUND},
    )
    def delete(self, request, gallery_id: int):
        gallery = gallery_for_user(request.user, gallery_id)
        if gallery is None:
            return error("no such gallery", 404)
        services.gallery_unshare(gallery=gallery)
        return JsonResponse(gallery_data(request, gallery))
