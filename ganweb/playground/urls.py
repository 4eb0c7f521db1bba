from django.urls import path

from ganweb.playground import views

urlpatterns = [
    path("<int:job_id>/", views.playground, name="playground"),
    path(
        "<int:job_id>/checkpoint",
        views.checkpoint_download,
        name="playground-checkpoint",
    ),
]
