from django.urls import path
from drf_spectacular.views import SpectacularJSONAPIView

from ganweb.api import views

urlpatterns = [
    path("auth/token", views.TokenView.as_view(), name="api-token"),
    path("auth/token/revoke", views.TokenRevokeView.as_view(), name="api-token-revoke"),
    path("me", views.MeView.as_view(), name="api-me"),
    path(
        "openapi.json",
        SpectacularJSONAPIView.as_view(
            authentication_classes=[], permission_classes=[]
        ),
        name="api-schema",
    ),
]
