"""Every page needs a signed-in user, except the views marked otherwise.

The API is exempt here because Django REST framework authenticates it itself
(session or Bearer token) and answers 401 instead of redirecting.
"""

from django.contrib.auth.middleware import (
    LoginRequiredMiddleware as DjangoLoginRequiredMiddleware,
)

UNGUARDED_PREFIXES = ("/api/", "/static/")


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(UNGUARDED_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
