"""API tokens sent as ``Authorization: Bearer <token>`` (the common HTTP form)."""

from rest_framework.authentication import TokenAuthentication


class BearerTokenAuthentication(TokenAuthentication):
    keyword = "Bearer"
