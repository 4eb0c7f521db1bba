from django.urls import path

from ganweb.datasets.synthetic_api import AugmentationView, SyntheticDatasetView
from ganweb.playground import api, api_directions

urlpatterns = [
    path("models/", api.ModelListView.as_view(), name="api-models"),
    path("models/<id:job_id>", api.ModelDetailView.as_view(), name="api-model"),
    path("models/<id:job_id>/sample", api.SampleView.as_view(), name="api-sample"),
    path(
        "models/<id:job_id>/class-grid",
        api.ClassGridView.as_view(),
        name="api-class-grid",
    ),
    path(
        "models/<id:job_id>/interpolate",
        api.InterpolateView.as_view(),
        name="api-interpolate",
    ),
    path(
        "models/<id:job_id>/style-mix",
        api.StyleMixView.as_view(),
        name="api-style-mix",
    ),
    path(
        "models/<id:job_id>/translate",
        api.TranslateView.as_view(),
        name="api-translate",
    ),
    path("models/<id:job_id>/project", api.ProjectView.as_view(), name="api-project"),
    path(
        "models/<id:job_id>/directions",
        api_directions.DirectionsView.as_view(),
        name="api-directions",
    ),
    path("models/<id:job_id>/edit", api_directions.EditView.as_view(), name="api-edit"),
    path(
        "models/<id:job_id>/dataset",
        SyntheticDatasetView.as_view(),
        name="api-model-dataset",
    ),
    path(
        "models/<id:job_id>/augmentation",
        AugmentationView.as_view(),
        name="api-model-augmentation",
    ),
    path(
        "projections/<str:projection_id>",
        api.ProjectionDetailView.as_view(),
        name="api-projection",
    ),
]
