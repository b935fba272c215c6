"""The schema view (kept apart from :mod:`orderdesk.api_schema`, which drf-spectacular's views import)."""

from __future__ import annotations

from django.utils import translation
from django.utils.functional import Promise
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView


def _forced(value):
    """The schema with every lazy (translatable) text made a plain string now, in the active language."""
    if isinstance(value, dict):
        return {_forced(k): _forced(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_forced(v) for v in value]
    if isinstance(value, Promise):
        return str(value)
    return value


class SchemaView(SpectacularAPIView):
    """`/api/v1/schema/`: the schema in English whatever the caller's language (or ``?lang=``).

    Titles and enum descriptions are translated texts, and client generators name models after
    them (openapi-python-client made ``orders_list_渠道`` of the channel filter): the contract
    must not change with the reader. The texts are made strings before the answer leaves the
    ``translation.override`` (DRF renders the answer only after the view returns).
    """

    @extend_schema(exclude=True)  # SERVE_INCLUDE_SCHEMA is off
    def get(self, request, *args, **kwargs):
        with translation.override("en"):
            response = self._get_schema_response(request)
            response.data = _forced(response.data)
        return response
