"""The token endpoints of the API: log in for a token, log out to revoke it (issue 9)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.response import Response
from rest_framework.views import APIView

from orderdesk import tokens
from orderdesk.throttling import TokenEndpointThrottle


class AuthTokenInputSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField(help_text="The token is refused from then on; ask for a new one.")


class TokenView(APIView):
    """`POST /api/v1/auth/token/` {"username","password"} → {"token", "expires_at"}.

    The credentials go to :func:`django.contrib.auth.authenticate` with the request, so
    django-axes counts failures per username and IP address and, once locked, refuses
    even the right password (429 ``locked_out``, answered by :mod:`orderdesk.security`).
    The endpoint has its own stricter throttle (scope ``token``). The token lives
    ``API_TOKEN_HOURS`` (see :mod:`orderdesk.tokens`).
    """

    authentication_classes = ()
    permission_classes = ()
    throttle_classes = [TokenEndpointThrottle]

    @extend_schema(request=AuthTokenInputSerializer, responses={200: TokenSerializer}, auth=[])
    def post(self, request, *args, **kwargs):
        # the Django request: axes flags a lockout on it for its middleware to answer
        serializer = AuthTokenSerializer(data=request.data, context={"request": request._request})
        serializer.is_valid(raise_exception=True)
        token = tokens.token_for(serializer.validated_data["user"])
        return Response({"token": token.key, "expires_at": tokens.expires_at(token)})


class LogoutView(APIView):
    """`POST /api/v1/auth/logout/`: revokes the caller's token (204); the next call with it is a 401."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request, *args, **kwargs):
        tokens.revoke(request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
