"""The OpenAPI schema as a contract (issue 9): every operation documents its error answers.

:class:`AutoSchema` is drf-spectacular's default schema class (``DEFAULT_SCHEMA_CLASS``), so no
view declares its errors itself: each operation gets the answers that
:func:`orderdesk.api.exception_handler` (and the middleware in front of DRF) really gives, all with
the one :class:`ErrorSerializer` body (component ``Error``):

* 400 — every operation: a NUL byte in the path or query (:mod:`orderdesk.input_guards`), a bad
  filter, a body that is not JSON or does not validate (``errors``), a transition's unmet
  conditions (``unmet``);
* 401 — every operation that needs a caller: no token, an unknown, expired or revoked token;
* 403 — every operation that needs a caller: the role may not do this (the auditor writes nothing);
* 404 — every operation that needs a caller: an object out of the caller's scope, an unknown page;
* 409 — every write: a lost race or a state that no longer allows it;
* 429 — every operation: the throttles (``throttled``) and the login lockout (``locked_out``).

Component names come from class names, never from translated text, so they are the same in
every language (tests/schema).
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class UnmetConditionSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer of the API (see :func:`orderdesk.api.exception_handler`)."""

    detail = serializers.CharField(help_text="What went wrong, in the caller's language.")
    code = serializers.CharField(
        help_text="A stable code: invalid, parse_error, not_authenticated, authentication_failed, "
        "permission_denied, not_found, conflict, conditions_unmet, throttled, locked_out, ..."
    )
    errors = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="400 `invalid`: each field (or non_field_errors) with its messages; nested for nested fields.",
    )
    unmet = UnmetConditionSerializer(
        many=True, required=False, help_text="400 `conditions_unmet`: each unmet condition of the transition."
    )

    class Meta:
        ref_name = "Error"


#: status → description, in the order they appear in the schema
ERROR_DESCRIPTIONS = {
    "400": "Bad input (nothing changed): `errors` per field, `unmet` for a transition's conditions.",
    "401": "No valid token: missing, unknown, expired or revoked.",
    "403": "The caller's role may not do this.",
    "404": "Not found, or outside the caller's scope.",
    "409": "Lost a race, or the object's state no longer allows this; reload and try again.",
    "429": "Too many requests (throttled) or login locked out; see Retry-After.",
}


class AutoSchema(SpectacularAutoSchema):
    def error_statuses(self) -> list[str]:
        """The error statuses this operation can answer (see the module's docstring)."""
        statuses = ["400"]
        if self.view.get_permissions():
            statuses += ["401", "403", "404"]
        if self.view.get_permissions() and self.method not in SAFE_METHODS:
            statuses.append("409")
        statuses.append("429")
        return statuses

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self.error_statuses():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]),
                    code,
                    media_types=["application/json"],
                    direction=direction,
                )
        return responses


def schema_empty_query_values_allowed(result, generator, request, public):
    """drf-spectacular hook: an optional query parameter may be sent empty (``?state=``), which is the
    same as leaving it out (django-filter and the pagination read an empty value as absent)."""
    for item in result.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
    return result
