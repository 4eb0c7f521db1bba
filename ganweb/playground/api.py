"""Playground API: thin handlers that answer with the image itself.

POST /api/models/<job id>/sample, /class-grid, /interpolate, /style-mix take
JSON; /translate takes a multipart upload. Errors are JSON {"error": ...}.
"""

from __future__ import annotations

import json

from django.http import HttpResponse, JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.views import APIView

from ganweb.core.json_body import GuardedJSONParser
from ganweb.jobs.selectors import jobs_for_user
from ganweb.playground import params as p
from ganweb.playground import services
from ganweb.playground.selectors import (
    model_checkpoint_steps,
    model_for_user,
    model_has_checkpoint,
)

ErrorSerializer = inline_serializer(
    "PlaygroundError", {"error": serializers.CharField()}
)
ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Bad values, or a call the "
                         "model's family cannot do (the error says which)."),
    404: OpenApiResponse(ErrorSerializer, description="No such model of yours, or "
                         "no checkpoint (at that step)."),
    503: OpenApiResponse(ErrorSerializer, description="No sampling worker answered."),
}  # fmt: skip


class ImageRenderer(BaseRenderer):
    """Lets clients send Accept: image/*; the views build image responses."""

    media_type = "image/*"
    format = "image"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else json.dumps(data).encode()


def error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def image_response(result: services.Result) -> HttpResponse:
    response = HttpResponse(result.content, content_type=result.content_type)
    meta = result.meta
    response["X-Playground"] = json.dumps(meta, separators=(",", ":"))
    response["X-Checkpoint-Step"] = str(meta.get("step", ""))
    response["X-Generator"] = str(meta.get("generator", ""))
    if "seed" in meta:
        response["X-Seed"] = str(meta["seed"])
    response["Cache-Control"] = "private, no-store"
    return response


def model_summary(job) -> dict:
    return {
        "id": job.pk,
        "name": job.name,
        "model": job.family,
        "state": job.state,
        "step": job.step,
        "checkpoints": model_checkpoint_steps(job),
    }


class ModelListView(APIView):
    @extend_schema(
        summary="Your trained models (jobs with a checkpoint)",
        responses={
            200: inline_serializer(
                "ModelSummary",
                {
                    "id": serializers.IntegerField(),
                    "name": serializers.CharField(),
                    "model": serializers.CharField(),
                    "state": serializers.CharField(),
                    "step": serializers.IntegerField(),
                    "checkpoints": serializers.ListField(
                        child=serializers.IntegerField()
                    ),
                },
                many=True,
            )
        },
    )
    def get(self, request):
        jobs = [job for job in jobs_for_user(request.user) if model_has_checkpoint(job)]
        return JsonResponse([model_summary(job) for job in jobs], safe=False)


class ModelDetailView(APIView):
    renderer_classes = [JSONRenderer]

    @extend_schema(
        summary="What a trained model can do",
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request, job_id: int):
        job = model_for_user(request.user, job_id)
        if job is None:
            return error("no such model", 404)
        try:
            info = services.model_describe(job=job)
        except p.PlaygroundError as exc:
            return error(str(exc), exc.status)
        return JsonResponse({**model_summary(job), **info})


class _ModelAction(APIView):
    action = ""
    renderer_classes = [JSONRenderer, ImageRenderer]
    parser_classes = [GuardedJSONParser]

    def run(self, request, job_id: int):
        job = model_for_user(request.user, job_id)
        if job is None:
            return error("no such model", 404)
        try:
            params = p.playground_params(action=self.action, data=request.data)
            result = services.model_render(job=job, action=self.action, params=params)
        except p.PlaygroundError as exc:
            return error(str(exc), exc.status)
        return image_response(result)


def _png(description: str) -> dict:
    return {(200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description)}


class SampleView(_ModelAction):
    action = "sample"

    @extend_schema(
        summary="A grid of samples by seed",
        request=p.SampleRequest,
        responses={
            **_png("The grid; X-Playground holds seed, columns, tile and padding."),
            **ERRORS,
        },
    )
    def post(self, request, job_id: int):
        return self.run(request, job_id)


class ClassGridView(_ModelAction):
    action = "class-grid"

    @extend_schema(
        summary="One row per class (conditional models)",
        request=p.ClassGridRequest,
        responses={**_png("Rows in class order."), **ERRORS},
    )
    def post(self, request, job_id: int):
        return self.run(request, job_id)


class InterpolateView(_ModelAction):
    action = "interpolate"

    @extend_schema(
        summary="An animation from seed_a's image to seed_b's",
        request=p.InterpolateRequest,
        responses={
            (200, "image/gif"): OpenApiResponse(OpenApiTypes.BINARY, "format gif"),
            (200, "image/webp"): OpenApiResponse(OpenApiTypes.BINARY, "format webp"),
            **ERRORS,
        },
    )
    def post(self, request, job_id: int):
        return self.run(request, job_id)


class StyleMixView(_ModelAction):
    action = "style-mix"

    @extend_schema(
        summary="StyleGAN2's style-mixing grid",
        request=p.StyleMixRequest,
        responses={
            **_png("Column sources on top, row sources down the left."),
            **ERRORS,
        },
    )
    def post(self, request, job_id: int):
        return self.run(request, job_id)


class TranslateView(_ModelAction):
    action = "translate"
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="CycleGAN or pix2pix (A to B only) translation of an uploaded image",
        request={"multipart/form-data": p.TranslateRequest},
        responses={**_png("The translated image."), **ERRORS},
    )
    def post(self, request, job_id: int):
        return self.run(request, job_id)


class ProjectRequest(serializers.Serializer):
    image = serializers.FileField(help_text="The image to find in the model.")
    steps = serializers.IntegerField(min_value=1, max_value=1000, default=200)
    seed = serializers.IntegerField(min_value=0, max_value=p.MAX_SEED, default=0)
    label = serializers.CharField(required=False, allow_null=True, default=None)


class ProjectView(APIView):
    parser_classes = [MultiPartParser, FormParser]
    renderer_classes = [JSONRenderer]

    @extend_schema(
        summary="Find the latent whose image is closest to an upload (queued)",
        request={"multipart/form-data": ProjectRequest},
        responses={202: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request, job_id: int):
        """Answers 202 with the projection's record at once; follow it on
        ``socket`` (WebSocket) or GET /api/projections/<id>."""
        from ganweb.playground.projections import projection_start, public_view

        job = model_for_user(request.user, job_id)
        if job is None:
            return error("no such model", 404)
        form = ProjectRequest(data=request.data)
        if not form.is_valid():
            return error(p.first_error(form.errors))
        values = form.validated_data
        try:
            png = services.upload_image(file=values["image"])
            record = projection_start(
                user=request.user,
                job=job,
                png=png,
                steps=values["steps"],
                seed=values["seed"],
                label=values["label"],
            )
        except p.PlaygroundError as exc:
            return error(str(exc), exc.status)
        body = {**public_view(record), "socket": f"/ws/projections/{record['id']}/"}
        return JsonResponse(body, status=202)


class ProjectionDetailView(APIView):
    renderer_classes = [JSONRenderer]

    @extend_schema(
        summary="A projection's state, progress and result",
        responses={200: OpenApiTypes.OBJECT, 404: ErrorSerializer},
    )
    def get(self, request, projection_id: str):
        from ganweb.playground.projections import projection_for_user, public_view

        record = projection_for_user(request.user, projection_id)
        if record is None:
            return error("no such projection", 404)
        return JsonResponse(public_view(record))
