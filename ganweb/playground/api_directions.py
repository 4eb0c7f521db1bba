"""Playground API for latent edits (GANSpace directions).

GET /api/models/<id>/directions lists the principal components with their
explained variance (a light worker computes them once per checkpoint); POST
/api/models/<id>/edit answers with a seed's (or a projection's) image moved
along them. Errors are JSON {"error": ...}, as in ganweb.playground.api.
"""

from __future__ import annotations

from django.http import JsonResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from ganweb.playground import params as p
from ganweb.playground import services
from ganweb.playground.api import ERRORS, _ModelAction, _png, error
from ganweb.playground.selectors import model_for_user

COMPONENT = dict(
    name="DirectionComponent",
    fields={
        "index": serializers.IntegerField(),
        "explained": serializers.FloatField(help_text="Share of the variance."),
        "sigma": serializers.FloatField(help_text="Standard deviation along it."),
    },
)
DirectionsResponse = inline_serializer(
    "Directions",
    {
        "family": serializers.CharField(),
        "step": serializers.IntegerField(),
        "space": serializers.ChoiceField(choices=("w", "z")),
        "feature": serializers.CharField(help_text='What the PCA ran on: "w" or '
                                         '"z via <layer>".'),
        "samples": serializers.IntegerField(),
        "cached": serializers.BooleanField(),
        "components": inline_serializer(**COMPONENT, many=True),
        "num_ws": serializers.IntegerField(required=False),
        "layer_groups": serializers.DictField(
            child=serializers.ListField(child=serializers.IntegerField()),
            required=False,
        ),
    },
)  # fmt: skip


class DirectionsQuery(p.ModelRequest):
    pass


class DirectionsView(APIView):
    renderer_classes = [JSONRenderer]

    @extend_schema(
        summary="The model's principal latent directions (GANSpace)",
        parameters=[
            OpenApiParameter("checkpoint", int, description="Checkpoint step."),
            OpenApiParameter("generator", str, enum=["ema", "raw"]),
        ],
        responses={200: DirectionsResponse, **ERRORS},
    )
    def get(self, request, job_id: int):
        job = model_for_user(request.user, job_id)
        if job is None:
            return error("no such model", 404)
        form = DirectionsQuery(data=request.query_params)
        if not form.is_valid():
            return error(p.first_error(form.errors))
        try:
            info = services.model_directions(job=job, **form.validated_data)
        except p.PlaygroundError as exc:
            return error(str(exc), exc.status)
        return JsonResponse(info)


class EditView(_ModelAction):
    action = "edit"

    @extend_schema(
        summary="A seed's image moved along principal directions",
        request=p.EditRequest,
        responses={
            **_png("The edit (with compare: the original, then the edit); "
                   "X-Playground holds alphas, layers and space."),
            **ERRORS,
        },
    )  # fmt: skip
    def post(self, request, job_id: int):
        return self.run(request, job_id)
