"""POST /api/models/<job id>/dataset: "Make a dataset" from a model (queued)."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from ganweb.core.json_body import GuardedJSONParser
from ganweb.datasets import selectors, services, synthetic
from ganweb.playground.params import first_error
from ganweb.playground.selectors import model_for_user

ErrorSerializer = inline_serializer(
    "SyntheticDatasetError", {"error": serializers.CharField()}
)


class SyntheticDatasetRequest(serializers.Serializer):
    n = serializers.IntegerField(
        min_value=1,
        help_text="Images (per class with per_class); at most "
        "GAN_SYNTHETIC_MAX_IMAGES in all (5,000 unless configured).",
    )
    per_class = serializers.BooleanField(
        default=False, help_text="n per class, in class folders (conditional models)."
    )
    truncation = serializers.FloatField(
        default=1.0, min_value=0.01, max_value=1.0, help_text="psi; 1 is none."
    )
    rejection = serializers.FloatField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0.0,
        max_value=100.0,
        help_text="Keep images by discriminator rejection sampling (Azadi et al. "
        "2019), gamma at this percentile; families with a logistic-loss D only.",
    )
    seed = serializers.IntegerField(
        default=0, min_value=0, max_value=synthetic.MAX_SEED
    )
    checkpoint = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=0,
        help_text="A checkpoint step; default: the one the playground uses.",
    )  # fmt: skip
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)


class SyntheticDatasetView(APIView):
    parser_classes = [GuardedJSONParser]

    @extend_schema(
        summary="Make a dataset of generated images from a model (queued)",
        request=SyntheticDatasetRequest,
        responses={
            202: OpenApiResponse(
                description="The new dataset (pending); follow it on ``socket`` "
                "or GET /api/datasets/<id>/."
            ),
            400: OpenApiResponse(ErrorSerializer, description="Bad settings: n "
                                 "over the limit, per_class on a model without "
                                 "labels, rejection the family cannot do."),
            404: OpenApiResponse(ErrorSerializer, description="No such model "
                                 "of yours."),
        },
    )  # fmt: skip
    def post(self, request, job_id: int):
        job = model_for_user(request.user, job_id)
        if job is None:
            return Response({"error": "no such model"}, status=404)
        form = SyntheticDatasetRequest(data=request.data)
        if not form.is_valid():
            return Response({"error": first_error(form.errors)}, status=400)
        values = form.validated_data
        try:
            dataset = synthetic.synthetic_dataset_create(
                owner=request.user,
                job=job,
                request=synthetic.SyntheticRequest(
                    n=values["n"],
                    per_class=values["per_class"],
                    truncation=values["truncation"],
                    rejection=values.get("rejection"),
                    seed=values["seed"],
                    step=values.get("checkpoint"),
                    name=values.get("name", ""),
                ),
            )
        except services.DatasetRejected as exc:
            return Response({"error": str(exc)}, status=400)
        body = {
            **selectors.dataset_summary(dataset),
            "url": reverse("dataset-detail", args=[dataset.pk]),
            "socket": f"/ws/datasets/{dataset.pk}/",
        }
        return Response(body, status=202)


class AugmentationRequest(serializers.Serializer):
    checkpoint = serializers.IntegerField(required=False, allow_null=True,
                                          default=None, min_value=0)  # fmt: skip


class AugmentationView(APIView):
    """The augmentation value of a model (light worker; see
    ganweb.playground.augmentation)."""

    parser_classes = [GuardedJSONParser]

    @extend_schema(
        summary="The model's augmentation value: its record (none yet, queued, "
        "running, done with real / synthetic (CAS) / real+synthetic accuracy, or "
        "failed)",
        responses={200: OpenApiResponse(description="The record."),
                   404: OpenApiResponse(ErrorSerializer)},
    )  # fmt: skip
    def get(self, request, job_id: int):
        from ganweb.playground.augmentation import augmentation_read

        job = model_for_user(request.user, job_id)
        if job is None:
            return Response({"error": "no such model"}, status=404)
        # Never measured is a state of the model's record, not a missing URL.
        return Response(augmentation_read(job=job) or {"state": "none"})

    @extend_schema(
        summary="Measure the model's augmentation value (queued on a light worker)",
        request=AugmentationRequest,
        responses={202: OpenApiResponse(description="Queued; GET to follow."),
                   400: OpenApiResponse(ErrorSerializer, description="A model "
                                        "without labels."),
                   404: OpenApiResponse(ErrorSerializer),
                   409: OpenApiResponse(ErrorSerializer, description="One is "
                                        "under way.")},
    )  # fmt: skip
    def post(self, request, job_id: int):
        from ganweb.playground.augmentation import augmentation_start
        from ganweb.playground.params import PlaygroundError

        job = model_for_user(request.user, job_id)
        if job is None:
            return Response({"error": "no such model"}, status=404)
        form = AugmentationRequest(data=request.data)
        if not form.is_valid():
            return Response({"error": first_error(form.errors)}, status=400)
        try:
            record = augmentation_start(job=job, step=form.validated_data["checkpoint"])
        except PlaygroundError as exc:
            return Response({"error": str(exc)}, status=exc.status)
        return Response(record, status=202)
