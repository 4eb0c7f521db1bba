"""Share links: /s/<token>/ opens a read-only gallery without signing in."""

from django.urls import path

from ganweb.gallery import views

urlpatterns = [
    path("<str:token>/", views.shared_gallery, name="gallery-shared"),
    path(
        "<str:token>/items/<id:item_id>",
        views.shared_item_file,
        name="gallery-shared-item",
    ),
    path(
        "<str:token>/download.zip",
        views.shared_download,
        name="gallery-shared-download",
    ),
]
