from django.urls import path

from ganweb.playground import views

urlpatterns = [
    path("<id:job_id>/", views.playground, name="playground"),
    path(
        "<id:job_id>/checkpoint",
        views.checkpoint_download,
        name="playground-checkpoint",
    ),
]
