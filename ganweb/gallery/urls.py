from django.urls import path

from ganweb.gallery import views

G = "<id:gallery_id>/"
ITEM = G + "items/<id:item_id>/"

urlpatterns = [
    path("", views.gallery_list, name="gallery-list"),
    path(G, views.gallery_detail, name="gallery-detail"),
    path(G + "edit", views.gallery_edit, name="gallery-edit"),
    path(G + "delete", views.gallery_delete, name="gallery-delete"),
    path(G + "share", views.gallery_share, name="gallery-share"),
    path(G + "unshare", views.gallery_unshare, name="gallery-unshare"),
    path(G + "download.zip", views.gallery_download, name="gallery-download"),
    path(ITEM + "file", views.item_file, name="gallery-item-file"),
    path(ITEM + "edit", views.item_edit, name="gallery-item-edit"),
    path(ITEM + "move", views.item_move, name="gallery-item-move"),
    path(ITEM + "delete", views.item_delete, name="gallery-item-delete"),
]
