from django.urls import path

from ganweb.jobs import api

urlpatterns = [
    path("jobs/", api.JobListCreateView.as_view(), name="api-jobs"),
    path("jobs/<id:job_id>/", api.JobDetailView.as_view(), name="api-job"),
    path("jobs/import", api.JobImportView.as_view(), name="api-job-import"),
    path("jobs/preflight", api.JobPreflightView.as_view(), name="api-job-preflight"),
    path("jobs/<id:job_id>/cancel", api.JobCancelView.as_view(), name="api-job-cancel"),
    path("jobs/<id:job_id>/resume", api.JobResumeView.as_view(), name="api-job-resume"),
    path("jobs/<id:job_id>/rerun", api.JobRerunView.as_view(), name="api-job-rerun"),
    path(
        "jobs/<id:job_id>/promote",
        api.JobPromoteView.as_view(),
        name="api-job-promote",
    ),
    path("families/", api.FamilyListView.as_view(), name="api-families"),
]
