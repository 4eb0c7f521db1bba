"""Errors that mean the same on every page and API: answered in one place."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render

from ganweb.core.limits import ActiveWorkLimit


def wants_json(request) -> bool:
    return request.path_info.startswith("/api/") or "application/json" in (
        request.headers.get("Accept") or ""
    )


class ActiveWorkLimitMiddleware:
    """A service refused more work for this user: 429 with its message."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ActiveWorkLimit):
            return None
        if wants_json(request):
            return JsonResponse({"error": str(exception)}, status=exception.status)
        return render(
            request,
            "core/limit.html",
            {"message": str(exception)},
            status=exception.status,
        )
