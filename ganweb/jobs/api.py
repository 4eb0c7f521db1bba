"""Job API: thin handlers over the job services and selectors."""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from ganweb.jobs import services
from ganweb.jobs.models import JobState
from ganweb.jobs.selectors import job_for_user_or_404, job_summary, jobs_for_user


class JobRequestSerializer(serializers.Serializer):
    dataset = serializers.CharField(help_text='A dataset id, or "builtin:<name>".')
    model = serializers.CharField(help_text="A model family, e.g. dcgan.")
    config = serializers.DictField(
        required=False,
        default=dict,
        help_text="The family's settings by the names `python -m gan_core models` "
        "shows (image_size, batch_size, steps, seed, ...).",
    )
    name = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200
    )
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=services.NOTE_LIMIT,
        trim_whitespace=False,
        help_text="Why the run was started (shown on its page and when compared).",
    )
    gpus = serializers.IntegerField(
        required=False,
        default=1,
        min_value=1,
        max_value=1024,
        help_text="Devices it trains on at once (one process each, on one worker "
        "that owns that many); batch_size is the global batch and must divide.",
    )
    init_from = serializers.DictField(
        required=False,
        allow_null=True,
        default=None,
        help_text='Start from a trained model\'s weights: {"job": model id, '
        '"step": checkpoint (optional), "share": share-link token (a model in '
        "a gallery shared with you)}. Same family, image size and channels.",
    )


class JobSerializer(serializers.Serializer):
    """The job as the API returns it (documentation; views build the dict)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    note = serializers.CharField()
    state = serializers.ChoiceField(choices=JobState.values)
    model = serializers.CharField()
    dataset = serializers.CharField()
    dataset_title = serializers.CharField(help_text="The data's name.")
    config = serializers.DictField()
    step = serializers.IntegerField()
    total_steps = serializers.IntegerField()
    metrics = serializers.DictField()
    error = serializers.CharField()
    queue_position = serializers.IntegerField(allow_null=True)
    gpus = serializers.IntegerField(help_text="World size: devices it trains on.")
    ranks = serializers.ListField(
        child=serializers.DictField(), help_text="[{rank, device, pid}]"
    )


ErrorSerializer = inline_serializer(
    "Error", {"error": serializers.CharField(), "field": serializers.CharField()}
)


def error_response(exc: services.JobError, code: int | None = None) -> Response:
    """``code`` answers a plain JobError; one with a status of its own (503:
    saved but not sent, with the job) keeps it."""
    body = {"error": str(exc)}
    if exc.field:
        body["field"] = exc.field
    if isinstance(exc, services.QueueUnavailable):
        body["job"] = job_summary(exc.job)
    own = exc.status != services.JobError.status
    return Response(body, status=exc.status if own else code or exc.status)


def request_object(request) -> dict:
    """The request's body as a mapping; a JSON array, string or number is a
    bad request (400), not a crash."""
    if not isinstance(request.data, dict):
        raise services.JobError("send a JSON object")
    return request.data


class JobListCreateView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("state", str, enum=JobState.values)],
        responses={200: JobSerializer(many=True)},
    )
    def get(self, request):
        state = request.query_params.get("state") or None
        return Response(
            [job_summary(job) for job in jobs_for_user(request.user, state=state)]
        )

    @extend_schema(
        request=JobRequestSerializer,
        responses={
            201: JobSerializer,
            400: ErrorSerializer,
            429: OpenApiResponse(ErrorSerializer, description="Too many active jobs."),
            503: OpenApiResponse(
                ErrorSerializer, description="Saved, queued, sent when Redis is back."
            ),
        },
    )
    def post(self, request):
        form = JobRequestSerializer(data=request.data)
        if not form.is_valid():
            field, problems = next(iter(form.errors.items()))
            return Response(
                {"error": f"{field}: {problems[0]}", "field": field}, status=400
            )
        data = form.validated_data
        try:
            job = services.job_create(
                owner=request.user,
                data_ref=data["dataset"],
                family=data["model"],
                config=data["config"],
                name=data["name"],
                note=data["note"],
                origin=data["init_from"],
                gpus=data["gpus"],
            )
        except services.JobError as exc:
            return error_response(exc)
        return Response(job_summary(job), status=status.HTTP_201_CREATED)


class JobImportView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="Import a checkpoint file downloaded from GAN Studio as a model",
        request={
            "multipart/form-data": inline_serializer(
                "Import",
                {
                    "file": serializers.FileField(),
                    "name": serializers.CharField(required=False),
                },
            )
        },
        responses={
            201: JobSerializer,
            400: ErrorSerializer,
            503: OpenApiResponse(ErrorSerializer, description="No worker answered."),
        },
    )
    def post(self, request):
        """The file is checked by a worker (weights only, settings validated,
        networks rebuilt); anything else is refused with the reason."""
        from ganweb.jobs.imports import checkpoint_import

        try:
            job = checkpoint_import(
                owner=request.user,
                upload=request.FILES.get("file"),
                name=str(request.data.get("name", "")),
            )
        except services.JobError as exc:
            return error_response(exc)
        return Response(job_summary(job), status=status.HTTP_201_CREATED)


class JobDetailView(APIView):
    @extend_schema(responses={200: JobSerializer})
    def get(self, request, job_id: int):
        return Response(job_summary(job_for_user_or_404(request.user, job_id)))

    @extend_schema(responses={204: None, 409: ErrorSerializer})
    def delete(self, request, job_id: int):
        try:
            services.job_delete(job=job_for_user_or_404(request.user, job_id))
        except services.JobError as exc:
            return error_response(exc, 409)
        return Response(status=status.HTTP_204_NO_CONTENT)


class JobCancelView(APIView):
    @extend_schema(request=None, responses={200: JobSerializer, 409: ErrorSerializer})
    def post(self, request, job_id: int):
        try:
            job = services.job_cancel(job=job_for_user_or_404(request.user, job_id))
        except services.JobError as exc:
            return error_response(exc, 409)
        return Response(job_summary(job))


class JobResumeView(APIView):
    @extend_schema(request=None, responses={200: JobSerializer, 409: ErrorSerializer})
    def post(self, request, job_id: int):
        try:
            job = services.job_resume(job=job_for_user_or_404(request.user, job_id))
        except services.JobError as exc:
            return error_response(exc, 409)
        return Response(job_summary(job))


class JobRerunView(APIView):
    @extend_schema(
        request=inline_serializer(
            "Rerun", {"config": serializers.DictField(required=False)}
        ),
        responses={201: JobSerializer, 400: ErrorSerializer},
    )
    def post(self, request, job_id: int):
        job = job_for_user_or_404(request.user, job_id)
        try:
            changes = request_object(request).get("config") or {}
            child = services.job_rerun(job=job, config_changes=changes)
        except services.JobError as exc:
            return error_response(exc)
        return Response(job_summary(child), status=status.HTTP_201_CREATED)


class JobPreflightView(APIView):
    @extend_schema(
        summary="Estimate a job's time and memory before queueing it",
        request=inline_serializer(
            "Preflight",
            {
                "dataset": serializers.CharField(),
                "model": serializers.CharField(),
                "config": serializers.DictField(required=False),
            },
        ),
        responses={
            200: inline_serializer(
                "PreflightEstimate",
                {
                    "step_seconds": serializers.FloatField(),
                    "duration_seconds": serializers.FloatField(),
                    "peak_bytes": serializers.IntegerField(),
                    "available_bytes": serializers.IntegerField(),
                    "fits": serializers.BooleanField(),
                    "suggested_batch_size": serializers.IntegerField(allow_null=True),
                    "device": serializers.CharField(),
                    "cached": serializers.BooleanField(),
                },
            ),
            400: ErrorSerializer,
            503: OpenApiResponse(ErrorSerializer, description="No worker answered."),
        },
    )
    def post(self, request):
        """A light worker trains a few steps of the configuration on data of
        the dataset's shape; answers are cached per configuration and device."""
        from ganweb.jobs.preflight import job_preflight

        try:
            body = request_object(request)
            estimate = job_preflight(
                user=request.user,
                data_ref=str(body.get("dataset", "")),
                family=str(body.get("model", "")),
                config=body.get("config") or {},
                gpus=body.get("gpus", 1),
            )
        except services.JobError as exc:
            return error_response(exc)
        return Response(estimate)


class JobPromoteView(APIView):
    @extend_schema(
        summary="Choose the checkpoint the playground uses",
        request=inline_serializer(
            "Promote",
            {"step": serializers.IntegerField(allow_null=True, min_value=0)},
        ),
        responses={200: JobSerializer, 400: ErrorSerializer},
    )
    def post(self, request, job_id: int):
        """``{"step": N}`` promotes a kept checkpoint; ``{"step": null}``
        goes back to the latest."""
        job = job_for_user_or_404(request.user, job_id)
        body = request.data
        if not isinstance(body, dict) or "step" not in body:
            return error_response(services.JobError("step: a checkpoint step or null"))
        step = body["step"]
        if step is not None and (
            isinstance(step, bool) or not isinstance(step, int) or step < 0
        ):
            return error_response(services.JobError("step: a checkpoint step or null"))
        try:
            job = services.job_promote(job=job, step=step)
        except services.JobError as exc:
            return error_response(exc)
        return Response(job_summary(job))


class FamilyListView(APIView):
    """The model families, what data each suits, their presets and settings."""

    @extend_schema(
        responses={
            200: inline_serializer(
                "Family",
                {
                    "name": serializers.CharField(),
                    "title": serializers.CharField(),
                    "description": serializers.CharField(),
                    "data_kinds": serializers.ListField(child=serializers.CharField()),
                    "presets": serializers.DictField(),
                    "settings": serializers.ListField(child=serializers.DictField()),
                },
                many=True,
            )
        }
    )
    def get(self, request):
        from ganweb.jobs.families import families_catalog

        return Response(families_catalog())
