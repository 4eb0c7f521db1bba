from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from ganweb.accounts.throttle import (
    UNAVAILABLE_RETRY_SECONDS,
    LockoutUnavailable,
    client_address,
    lockout_message,
    login_failure_record,
    login_seconds_locked,
    login_success_record,
)


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})


class TokenView(APIView):
    """Exchange a username and password for an API token, or revoke it."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: inline_serializer("Token", {"token": serializers.CharField()}),
            401: None,
            429: None,
            503: None,
        },
        auth=[],
    )
    def post(self, request):
        try:
            return self._exchange(request)
        except LockoutUnavailable as exc:  # fail closed: no check, no token
            return Response(
                {"error": str(exc)},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
                headers={"Retry-After": str(UNAVAILABLE_RETRY_SECONDS)},
            )

    def _exchange(self, request):
        form = TokenRequestSerializer(data=request.data)
        if not form.is_valid():
            return Response({"error": "username and password are required"}, status=400)
        who = {
            "username": form.validated_data["username"],
            "address": client_address(request),
        }
        seconds = login_seconds_locked(**who)
        if seconds:  # the same lockout as the sign-in page, before any check
            return Response(
                {"error": lockout_message(seconds)},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(seconds)},
            )
        user = authenticate(request, **form.validated_data)
        if user is None:
            login_failure_record(**who)
            return Response(
                {"error": "wrong username or password"},
                status=status.HTTP_401_UNAUTHORIZED,
            )
        login_success_record(**who)
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class TokenRevokeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(
        responses={
            200: inline_serializer(
                "Me",
                {"id": serializers.IntegerField(), "username": serializers.CharField()},
            )
        }
    )
    def get(self, request):
        return Response({"id": request.user.id, "username": request.user.username})
