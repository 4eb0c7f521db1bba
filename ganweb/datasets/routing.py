from django.urls import path

from ganweb.datasets.consumers import DatasetConsumer

websocket_urlpatterns = [
    path("ws/datasets/<id:dataset_id>/", DatasetConsumer.as_asgi()),
]
