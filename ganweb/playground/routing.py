from django.urls import path

from ganweb.playground.consumers import ProjectionConsumer

websocket_urlpatterns = [
    path("ws/projections/<str:projection_id>/", ProjectionConsumer.as_asgi()),
]
