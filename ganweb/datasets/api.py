"""Dataset API: thin handlers over the dataset services and selectors."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from ganweb.core.json_body import GuardedJSONParser
from ganweb.datasets import selectors, services
from ganweb.datasets.models import DatasetKind, DatasetState
from ganweb.datasets.uploads import install_upload_limits, too_many_files_message


class DatasetUploadSerializer(serializers.Serializer):
    """Documentation of the multipart upload (the view reads the fields itself)."""

    name = serializers.CharField(max_length=200, help_text="A name to show.")
    file = serializers.FileField(
        required=False, help_text="One archive: .zip, .tar or .tar.gz."
    )
    files = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text="Several images (PNG, JPEG, WebP, BMP, GIF): a flat dataset.",
    )
    pairing = serializers.ChoiceField(
        choices=["", "folders", "side_by_side"],
        required=False,
        help_text="Paired images for pix2pix: 'folders' (A/ and B/ whose files "
        "pair by name; the answer's stats.pairs_found says how many pairs and "
        "which files have no partner) or 'side_by_side' (A left, B right in "
        "each image). Empty: not paired.",
    )


class DatasetSerializer(serializers.Serializer):
    """A dataset as the API returns it (documentation; selectors build it)."""

    id = serializers.CharField(help_text='An integer id, or "builtin:<name>".')
    name = serializers.CharField()
    builtin = serializers.BooleanField()
    state = serializers.ChoiceField(choices=DatasetState.values)
    progress = serializers.FloatField(help_text="Percent, while processing.")
    kind = serializers.ChoiceField(
        choices=[*DatasetKind.values, "points"], allow_null=True
    )
    paired_layout = serializers.ChoiceField(
        choices=["folders", "side_by_side"],
        allow_null=True,
        required=False,
        help_text="How a paired (pix2pix) dataset holds its pairs.",
    )
    image_count = serializers.IntegerField()
    skipped_count = serializers.IntegerField(help_text="Corrupt images skipped.")
    classes = serializers.DictField(
        child=serializers.IntegerField(), help_text="Class (or domain) -> images."
    )
    error = serializers.CharField(allow_null=True, help_text="Why it failed.")
    suits = serializers.ListField(
        child=serializers.CharField(), help_text="Model families it can train."
    )
    synthetic = serializers.DictField(
        allow_null=True,
        help_text="Generated from a model: job_id, step, n, per_class, "
        "truncation, rejection, seed (null for uploads).",
    )


class RenameSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)


ErrorSerializer = inline_serializer("DatasetError", {"error": serializers.CharField()})
DATASET_ID = OpenApiParameter(
    "dataset_id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description='An integer id, or "builtin:<name>" (read only).',
)


def error(message: str, code: int = 400) -> Response:
    return Response({"error": message}, status=code)


def owned_or_404(request, dataset_id: str):
    dataset = selectors.dataset_for_user(request.user, dataset_id)
    if dataset is None:
        raise Http404("no such dataset")
    return dataset


class DatasetListCreateView(APIView):
    parser_classes = [MultiPartParser, GuardedJSONParser]

    def initial(self, request, *args, **kwargs):
        # Before authentication: the CSRF check of a session may parse the body.
        if request.method == "POST":
            self.upload_limits = install_upload_limits(request._request)
        super().initial(request, *args, **kwargs)

    @extend_schema(
        parameters=[OpenApiParameter("search", str, description="Name contains.")],
        responses={200: DatasetSerializer(many=True)},
        description="The user's datasets, then the built-in ones.",
    )
    def get(self, request):
        search = request.query_params.get("search") or None
        own = selectors.datasets_for_user(request.user, search=search)
        return Response(
            [selectors.dataset_summary(d) for d in own]
            + selectors.builtin_summaries(search)
        )

    @extend_schema(
        request={"multipart/form-data": DatasetUploadSerializer},
        responses={
            201: DatasetSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Upload refused."),
            413: OpenApiResponse(ErrorSerializer, description="Upload too large."),
        },
        description="Upload an archive (`file`) or several images (`files`). "
        "The dataset is processed in the background: poll it, or watch "
        "/ws/datasets/<id>/, until its state is ready or failed.",
    )
    def post(self, request):
        try:
            data, files = request.data, request.FILES
        except (TooManyFilesSent, RequestDataTooBig, ParseError) as exc:
            return error(f"the upload cannot be read: {exc}")
        except MultiPartParserError as exc:
            return error(f"the upload cannot be read: {exc}")
        limits = self.upload_limits
        if limits.refusal is not None:
            code, message = limits.refusal
            return error(message, code)
        archives = files.getlist("file")
        if len(archives) > 1:
            return error("send one archive as 'file' (or images as 'files')")
        images = files.getlist("files")
        if len(images) > limits.max_files:
            return error(too_many_files_message(limits.max_files))
        try:
            dataset = services.dataset_ingest(
                owner=request.user,
                name=str(data.get("name", "")),
                archive=archives[0] if archives else None,
                images=images,
                pairing=str(data.get("pairing", "")),
            )
        except services.DatasetRejected as exc:
            return error(str(exc))
        return Response(
            selectors.dataset_summary(dataset), status=status.HTTP_201_CREATED
        )


class DatasetDetailView(APIView):
    @extend_schema(
        parameters=[DATASET_ID], responses={200: DatasetSerializer, 404: None}
    )
    def get(self, request, dataset_id: str):
        builtin = selectors.builtin_by_id(dataset_id)
        if builtin is not None:
            return Response(builtin)
        return Response(selectors.dataset_summary(owned_or_404(request, dataset_id)))

    @extend_schema(
        parameters=[DATASET_ID],
        request=RenameSerializer,
        responses={200: DatasetSerializer, 400: ErrorSerializer, 404: None},
        description="Rename the dataset.",
    )
    def patch(self, request, dataset_id: str):
        dataset = owned_or_404(request, dataset_id)
        form = RenameSerializer(data=request.data)
        if not form.is_valid():
            return error("name: a dataset needs a name of at most 200 characters")
        try:
            services.dataset_rename(dataset=dataset, name=form.validated_data["name"])
        except services.DatasetError as exc:
            return error(str(exc))
        return Response(selectors.dataset_summary(dataset))

    @extend_schema(
        parameters=[DATASET_ID],
        responses={204: None, 404: None, 409: ErrorSerializer},
        description="Delete the dataset and its files (409 while a job uses it).",
    )
    def delete(self, request, dataset_id: str):
        dataset = owned_or_404(request, dataset_id)
        try:
            services.dataset_delete(dataset=dataset)
        except services.DatasetInUse as exc:
            return error(str(exc), status.HTTP_409_CONFLICT)
        return Response(status=status.HTTP_204_NO_CONTENT)
