"""API tokens that expire and are revoked (issue 9).

Decision: DRF's own ``rest_framework.authtoken`` Token, with an expiry and revocation
added here, rather than django-rest-knox. The public contract (``POST /api/v1/auth/token/``
``{"username","password"}`` → ``{"token"}``, header ``Authorization: Token <token>``)
and every existing client, fixture and script keep working unchanged; the admin
already lists the tokens (Auth Token → Tokens), so an administrator revokes one by
deleting it. What DRF lacks is small: a lifetime (``API_TOKEN_HOURS``, counted from
the token's ``created``) checked by :class:`ExpiringTokenAuthentication`, and
revocation on logout and on password change (the signals below). knox would add
several tokens per user and hashed storage but changes the header handling and the
token model that the fixtures and the README use.

* an expired token answers 401 ``token_expired`` and is deleted; the token endpoint
  hands out a fresh one;
* logging out (the web page's logout, or ``POST /api/v1/auth/logout/``) deletes the
  user's token;
* changing a password (any way: the admin, ``set_password`` + ``save``,
  ``changepassword``) deletes the user's token.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import pre_save
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token


def lifetime() -> timedelta:
    return timedelta(hours=settings.API_TOKEN_HOURS)


def expires_at(token: Token) -> datetime:
    return token.created + lifetime()


def is_expired(token: Token) -> bool:
    return timezone.now() >= expires_at(token)


def token_for(user) -> Token:
    """The user's valid token: the current one, or a new one when it has expired."""
    token, created = Token.objects.get_or_create(user=user)
    if not created and is_expired(token):
        token.delete()
        token = Token.objects.create(user=user)
    return token


def revoke(user) -> int:
    """Deletes the user's token(s); the count deleted."""
    if user is None or not getattr(user, "pk", None):
        return 0
    return Token.objects.filter(user=user).delete()[0]


class TokenExpired(exceptions.AuthenticationFailed):
    default_detail = _("The token has expired; ask for a new one.")
    default_code = "token_expired"


class ExpiringTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>`` as DRF's, refused once the token is older than API_TOKEN_HOURS."""

    def authenticate_credentials(self, key):
        # DRF's own lookup and messages, with the user's role names read in the same query (PostgreSQL): every
        # API request asks for them (scope, field classes), one query fewer each; its SQL is compiled once per
        # process (orderdesk.prepared, issue 14)
        from orderdesk import roles

        try:
            found = _token_with_user().fetch(key=key)
        except (ValueError, TypeError):
            found = []
        if not found:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        token = found[0]
        user = token.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if hasattr(token, "role_names"):
            roles.remember_roles(user, token.role_names)
        if is_expired(token):
            token.delete()
            raise TokenExpired()
        return user, token


@cache
def _token_with_user():
    """The token by its key, with its user and (PostgreSQL) the user's role names, as a prepared read."""
    from orderdesk.prepared import PreparedQuery

    model = Token

    def build(shape, *, key):
        from orderdesk import roles

        tokens = model.objects.select_related("user")
        names = roles.role_names_subquery("user_id")
        if names is not None:
            tokens = tokens.annotate(role_names=names)
        return tokens.filter(key=key)

    return PreparedQuery("token with its user", build, params={"key": model._meta.get_field("key")})


def _revoke_on_logout(sender, request, user, **kwargs):
    revoke(user)


def _revoke_on_password_change(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or not instance.pk:
        return
    if update_fields is not None and "password" not in update_fields:
        return
    old = sender.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    if old is not None and old != instance.password:
        revoke(instance)


def connect_signals() -> None:
    user_logged_out.connect(_revoke_on_logout, dispatch_uid="orderdesk.tokens.logout")
    pre_save.connect(_revoke_on_password_change, sender=get_user_model(), dispatch_uid="orderdesk.tokens.password")
