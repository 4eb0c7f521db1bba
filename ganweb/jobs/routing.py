from django.urls import path

from ganweb.jobs.consumers import JobConsumer

websocket_urlpatterns = [
    path("ws/jobs/<id:job_id>/", JobConsumer.as_asgi()),
]
