from django.urls import path

from ganweb.gallery import api

urlpatterns = [
    path("galleries/", api.GalleryListView.as_view(), name="api-galleries"),
    path(
        "galleries/<id:gallery_id>",
        api.GalleryDetailView.as_view(),
        name="api-gallery",
    ),
    path(
        "galleries/<id:gallery_id>/items",
        api.ItemCreateView.as_view(),
        name="api-gallery-items",
    ),
    path(
        "galleries/<id:gallery_id>/items/<id:item_id>",
        api.ItemDetailView.as_view(),
        name="api-gallery-item",
    ),
    path(
        "galleries/<id:gallery_id>/order",
        api.OrderView.as_view(),
        name="api-gallery-order",
    ),
    path(
        "galleries/<id:gallery_id>/share",
        api.ShareView.as_view(),
        name="api-gallery-share",
    ),
]
