"""All WebSocket routes, collected from the apps."""

from django.urls import re_path

from ganweb.core.consumers import UnknownPathConsumer
from ganweb.core.routing import websocket_urlpatterns as core_routes
from ganweb.datasets.routing import websocket_urlpatterns as dataset_routes
from ganweb.jobs.routing import websocket_urlpatterns as job_routes
from ganweb.playground.routing import websocket_urlpatterns as projection_routes

websocket_urlpatterns = [
    *core_routes,
    *dataset_routes,
    *job_routes,
    *projection_routes,
    re_path(r"", UnknownPathConsumer.as_asgi()),  # last: whatever matched nothing
]
