"""Dataset pages (the API routes live in api_urls.py)."""

from django.urls import path, re_path

from ganweb.datasets import views

urlpatterns = [
    path("", views.dataset_list, name="dataset-list"),
    path("new/", views.dataset_new, name="dataset-new"),
    path("<id:dataset_id>/", views.dataset_detail, name="dataset-detail"),
    path("<id:dataset_id>/rename", views.dataset_rename, name="dataset-rename"),
    path("<id:dataset_id>/delete", views.dataset_delete, name="dataset-delete"),
    re_path(
        r"^(?P<dataset_id>\d+)/files/(?P<name>preview\.png|thumbs/\d{4}\.png)$",
        views.dataset_file,
        name="dataset-file",
    ),
]
