from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from ganweb.core.health import health_report


@login_not_required
@never_cache
def healthz(request):
    report, healthy = health_report()
    return JsonResponse(report, status=200 if healthy else 503)


@login_not_required
def home(request):
    """The landing page for visitors, the dashboard for signed-in people."""
    if not request.user.is_authenticated:
        return render(request, "core/landing.html")
    from ganweb.datasets.selectors import datasets_for_user
    from ganweb.gallery.selectors import galleries_for_user
    from ganweb.jobs.selectors import jobs_for_user

    context = {
        "jobs": jobs_for_user(request.user)[:8],
        "datasets": datasets_for_user(request.user)[:6],
        "galleries": galleries_for_user(request.user)[:6],
    }
    return render(request, "core/home.html", context)
