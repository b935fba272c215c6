"""The OpenAPI schema at /api/v1/schema/ is a contract (issue 9).

JSON request bodies everywhere but where a file is sent; every operation documents its error
answers with the one ``Error`` body the exception handler really renders; names in English
whatever the caller's language; drf-spectacular generates it without a warning and it validates.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from tests import factories
from tests.utils import API

pytestmark = pytest.mark.django_db

#: the only operation that receives a file: the accept transition's signed-receipt scan
UPLOAD_OPERATIONS = {("post", "/api/v1/orders/{id}/transitions/{name}/"), ("post", "/api/v1/production/progress/")}
METHODS = ("get", "post", "put", "patch", "delete")
ERROR_REF = "#/components/schemas/Error"


@pytest.fixture
def schema(api_client_for, sales_manager):
    response = api_client_for(sales_manager).get(f"{API}/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def operations(schema):
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def test_spectacular_generates_the_schema_without_a_warning_and_it_validates(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command(
        "spectacular",
        "--fail-on-warn",
        "--validate",
        "--lang",
        "en",
        "--file",
        str(out),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert "paths:" in out.read_text()


def test_request_bodies_are_json_but_where_a_file_is_sent(schema):
    bodies = {}
    for method, path, op in operations(schema):
        if "requestBody" in op:
            bodies[(method, path)] = sorted(op["requestBody"]["content"])
    assert len(bodies) >= 20
    for key, types in bodies.items():
        if key in UPLOAD_OPERATIONS:
            assert types == ["application/json", "multipart/form-data"], key
        else:
            assert types == ["application/json"], key
    # the upload is its own component (a generated client tells the two bodies apart by type)
    upload = schema["paths"]["/api/v1/orders/{id}/transitions/{name}/"]["post"]["requestBody"]["content"]
    assert upload["application/json"]["schema"]["$ref"].endswith("/TransitionInputRequest")
    assert upload["multipart/form-data"]["schema"]["$ref"].endswith("/TransitionUploadRequest")
    assert "receipt_scan" not in schema["components"]["schemas"]["TransitionInputRequest"]["properties"]


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/x-www-form-urlencoded", "name=x"),
        ("multipart/form-data; boundary=B", '--B\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--B--\r\n'),
    ],
)
def test_a_json_endpoint_refuses_form_data_with_415(api_client_for, sales_assistant, content_type, body):
    client = api_client_for(sales_assistant)
    response = client.generic("POST", f"{API}/orders/", body, content_type=content_type)
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    anonymous = api_client_for(None).generic(
        "POST", f"{API}/auth/token/", "username=sales_assistant&password=x", content_type=content_type
    )
    assert anonymous.status_code == 415


def test_the_transition_takes_json_and_multipart(api_client_for, sales_assistant):
    order = factories.make_order(assistant=sales_assistant)
    client = api_client_for(sales_assistant)
    url = f"{API}/orders/{order.pk}/transitions/submit/"
    form = client.post(url, {"comment": "as a form"}, format="multipart")
    assert form.status_code != 415
    as_json = client.post(url, {"comment": "as JSON"}, format="json")
    assert as_json.status_code != 415


def test_every_operation_documents_its_error_answers(schema):
    count = 0
    for method, path, op in operations(schema):
        count += 1
        public = op.get("security") == [{}] or path == "/api/v1/auth/token/"
        expected = {"400", "429"} if public else {"400", "401", "403", "404", "429"}
        if method != "get" and not public:
            expected.add("409")
        assert expected <= set(op["responses"]), (method, path, sorted(op["responses"]))
        for code in expected:
            response = op["responses"][code]
            assert response["content"]["application/json"]["schema"]["$ref"] == ERROR_REF, (method, path, code)
            assert response["description"]
    assert count >= 50


def test_the_error_component_is_what_the_api_really_answers(schema, api_client_for, sales_assistant, auditor):
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"detail", "code"}
    assert set(error["properties"]) == {"detail", "code", "errors", "unmet"}
    assert error["properties"]["unmet"]["items"]["$ref"].endswith("/UnmetCondition")
    answers = [
        (api_client_for(sales_assistant).post(f"{API}/orders/", {}, format="json"), 400),
        (api_client_for(None).get(f"{API}/orders/"), 401),
        (api_client_for(auditor).post(f"{API}/orders/", {}, format="json"), 403),
        (api_client_for(sales_assistant).get(f"{API}/orders/999999/"), 404),
    ]
    for response, status in answers:
        assert response.status_code == status
        body = response.json()
        assert set(body) <= set(error["properties"]) and {"detail", "code"} <= set(body), body
        assert isinstance(body["detail"], str) and isinstance(body["code"], str)
    assert isinstance(answers[0][0].json()["errors"], dict)


def test_names_are_english_whatever_the_callers_language(api_client_for, sales_manager):
    client = api_client_for(sales_manager)
    zh = client.get(f"{API}/schema/?format=json", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    en = client.get(f"{API}/schema/?format=json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert zh == en  # titles and descriptions too: client generators name models after titles
    names = list(en["components"]["schemas"])
    assert all(name.isascii() and name[0].isupper() for name in names), names
    channel = next(p for p in en["paths"]["/api/v1/orders/"]["get"]["parameters"] if p["name"] == "channel")
    assert channel["schema"].get("title", "Channel").isascii()


def _nullable_relation_fields():
    """(component, field) for every serialized field read through a nullable relation."""
    from django.db import models
    from drf_spectacular.generators import SchemaGenerator
    from rest_framework import serializers

    generator = SchemaGenerator()
    generator.get_schema(request=None, public=True)
    found = []
    for component in generator.registry._components.values():
        serializer = component.object
        if component.type != "schemas" or not isinstance(serializer, serializers.ModelSerializer):
            continue
        model = serializer.Meta.model
        for name, field in serializer.fields.items():
            if not field.source or field.source == "*" or field.write_only:
                continue
            try:
                first = model._meta.get_field(field.source.split(".")[0])
            except Exception:  # noqa: BLE001 - a property or method, not a model field
                continue
            if isinstance(first, models.ForeignKey) and first.null:
                found.append((component.name, name))
    return found


def test_nullable_relations_are_declared_nullable(schema):
    found = _nullable_relation_fields()
    assert found  # e.g. a complaint's handler, a check item's checker
    components = schema["components"]["schemas"]
    missing = [
        (c, n)
        for c, n in found
        if n in components[c]["properties"] and components[c]["properties"][n].get("nullable") is not True
    ]
    assert not missing


@pytest.mark.parametrize(
    "query, status",
    [
        ("", 200),
        ("?page_size=", 200),  # empty is the same as absent (allowEmptyValue)
        ("?page_size=10", 200),
        ("?page_size=0.5", 400),
        ("?page_size=0", 400),
        ("?page_size=-3", 400),
        ("?page_size=1&page_size=2", 400),
        ("?page=x", 400),
        ("?page=99", 404),  # a whole number past the last page
    ],
)
def test_pagination_parameters_are_whole_numbers(api_client_for, sales_manager, query, status):
    response = api_client_for(sales_manager).get(f"{API}/products/{query}")
    assert response.status_code == status, response.content
    if status == 400:
        assert response.json()["code"] == "invalid"


@pytest.mark.parametrize(
    "query, status",
    [
        ("?order=", 200),
        ("?order=1", 200),
        ("?order=1.5", 400),
        ("?order=1e9", 400),
        ("?open=true", 200),
        ("?open=", 200),
        ("?open=maybe", 400),
        ("?open=-58800", 400),
    ],
)
def test_id_and_yes_no_filters_refuse_other_values(api_client_for, production_supervisor, query, status):
    response = api_client_for(production_supervisor).get(f"{API}/production/issues/{query}")
    assert response.status_code == status, response.content
    if status == 400:
        assert set(response.json()["errors"]) == {query[1:].split("=")[0]}


def test_a_post_to_an_unknown_api_path_with_a_session_cookie_is_a_json_404(sales_manager):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)  # as a browser: CSRF is checked
    client.force_login(sales_manager)
    response = client.post(f"{API}/orders/0.5/clarifications/", {"question": "x"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_an_unknown_api_path_with_a_newline_is_a_json_404(api_client_for, sales_manager):
    response = api_client_for(sales_manager).post(f"{API}/supervision/checks/items/a%0Ab/outcome/", {}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
