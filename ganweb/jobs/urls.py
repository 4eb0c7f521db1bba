from django.urls import path

from ganweb.jobs import views

urlpatterns = [
    path("", views.job_list, name="job-list"),
    path("new/", views.job_new, name="job-new"),
    path("new/preflight", views.job_new_preflight, name="job-new-preflight"),
    path("compare/", views.job_compare, name="job-compare"),
    path("train-further/", views.job_train_further, name="job-train-further"),
    path("import/", views.job_import, name="job-import"),
    path("<id:job_id>/", views.job_detail, name="job-detail"),
    path("<id:job_id>/files/<path:path>", views.job_file, name="job-file"),
    path(
        "<id:job_id>/checkpoints/promote",
        views.job_promote,
        name="job-promote",
    ),
    path(
        "<id:job_id>/<str:action>",
        views.job_action,
        name="job-action",
    ),
]
