from django.urls import include, path

from ganweb.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("ganweb.accounts.urls")),
    path("api/", include("ganweb.api.urls")),
    path("api/", include("ganweb.datasets.api_urls")),
    path("datasets/", include("ganweb.datasets.urls")),
    path("api/", include("ganweb.jobs.api_urls")),
    path("jobs/", include("ganweb.jobs.urls")),
    path("api/", include("ganweb.playground.api_urls")),
    path("playground/", include("ganweb.playground.urls")),
    path("api/", include("ganweb.gallery.api_urls")),
    path("galleries/", include("ganweb.gallery.urls")),
    path("s/", include("ganweb.gallery.shared_urls")),
]
