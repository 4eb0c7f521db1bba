"""Dataset API routes, mounted under /api/."""

from django.urls import path

from ganweb.datasets import api

urlpatterns = [
    path("datasets/", api.DatasetListCreateView.as_view(), name="api-datasets"),
    path(
        "datasets/<str:dataset_id>/",
        api.DatasetDetailView.as_view(),
        name="api-dataset",
    ),
]
