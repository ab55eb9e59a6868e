"""The REST API against its own OpenAPI document (schemathesis).

Every operation FAB documents under ``/api/v1`` is called with generated
requests, schema-valid and schema-invalid, by an administrator and by an
ordinary role, against a database holding the demo data. No answer may be a
server error, and every documented answer must match its documented schema.
"""
import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from app import create_app
from app.extensions import db
from tests.conftest import BASE_OVERRIDES, PASSWORD

CHECKS = [not_a_server_error, response_schema_conformance]
# Per operation and role: enough to reach every field with both kinds of data,
# few enough for the whole document to run in about a minute.
EXAMPLES = {"Admin": 5, "ComplaintOfficer": 2}


@pytest.fixture(scope="module")
def demo_app(database_factory, tmp_path_factory):
    """An app whose database holds the demo users, organisation and business data."""
    from app.audit.context import acting_as
    from app.demo import create_demo_data
    from app.setup import _create_demo_organisation, _create_demo_users

    tmp = tmp_path_factory.mktemp("api_schema")
    url = database_factory.new_url()
    app = create_app({**BASE_OVERRIDES, "SQLALCHEMY_DATABASE_URI": url,
                      "FAB_UPDATE_PERMS": False, "INSTANCE_PATH": str(tmp / "instance"),
                      "ATTACHMENT_FOLDER": str(tmp / "attachments")})
    with app.app_context():
        sm = app.appbuilder.sm
        admin = sm.add_user("admin", "管理员", "系统", "admin@example.com", sm.find_role("Admin"),
                            password=PASSWORD)
        with acting_as(admin):
            _create_demo_users(sm)
            _create_demo_organisation(sm)
            create_demo_data(lambda *args: None)
        for user in sm.get_all_users():
            sm.reset_password(user.id, PASSWORD)
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    database_factory.drop(url)


def openapi_document(app, version="v1"):
    """The document FAB's OpenApi view serves (the view itself is off in production)."""
    from flask_appbuilder.api import BaseApi
    from flask_appbuilder.api.manager import OpenApi

    with app.test_request_context("/"):
        spec = OpenApi._create_api_spec(version)
        for view in app.appbuilder.baseviews:
            if isinstance(view, BaseApi) and view.version == version:
                view.add_api_spec(spec)
        # Round trip through JSON, as a client reading /api/v1/_openapi would.
        return json.loads(json.dumps(spec.to_dict()))


def correct_fab_errata(document):
    """Correct the few places where FAB's own docstrings describe its answers wrongly.

    These are FAB's generic texts, the same for every resource and not
    generated from our models; each correction says what FAB really answers.
    Everything else in the document is checked as FAB generates it.
    """
    for status in ("400", "422"):
        # FAB's body validation answers {"message": {"field": ["error", ...]}}.
        response = document["components"]["responses"][status]
        response["content"]["application/json"]["schema"]["properties"]["message"] = {
            "oneOf": [{"type": "string"}, {"type": "object"}]}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation.get("responses", {}).items():
                properties = (response.get("content", {}).get("application/json", {})
                              .get("schema", {}).get("properties", {}))
                if "ids" in properties and method == "get":
                    properties["ids"]["items"] = {"type": "integer"}  # our keys are integers
                if status in ("200", "201") and properties.get("id", {}).get("type") == "string":
                    properties["id"] = {"type": "integer"}  # FAB's post and get say "string"
                if path.endswith("/_info"):
                    for key in ("add_columns", "edit_columns"):
                        if key in properties:
                            properties[key] = {"type": "array", "items": {"type": "object"}}
                if path == "/api/v1/menu/" and "result" in properties:
                    # A separator between menu entries is the string "-".
                    properties["result"]["items"]["properties"]["childs"]["items"] = {
                        "oneOf": [{"type": "object"}, {"type": "string", "enum": ["-"]}]}
    return document


def token_for(client, username):
    response = client.post("/api/v1/security/login", json={
        "username": username, "password": PASSWORD, "provider": "db", "refresh": False,
    })
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["access_token"]


def first_id(client, token, resource):
    response = client.get(f"/api/v1/{resource}/?q=(page_size:1)",
                          headers={"Authorization": f"Bearer {token}"})
    ids = response.get_json()["ids"] if response.status_code == 200 else []
    return ids[0] if ids else None


def test_every_operation_answers_within_its_schema(demo_app):
    document = correct_fab_errata(openapi_document(demo_app))
    schema = schemathesis.openapi.from_dict(document)
    schema.app = demo_app
    client = demo_app.test_client()
    documented = {(method.upper(), path) for path, item in document["paths"].items()
                  for method in item if method in {"get", "post", "put", "patch", "delete"}}
    tokens = {"Admin": token_for(client, "admin"), "ComplaintOfficer": token_for(client, "sunli")}
    exercised, failures, cases = set(), [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        strategies = [operation.as_strategy(GenerationMode.POSITIVE),
                      operation.as_strategy(GenerationMode.NEGATIVE)]
        if "{pk}" in operation.path:
            # Random keys name no record: also aim at one that exists.
            existing = first_id(client, tokens["Admin"], operation.path.split("/")[3])
            if existing is not None:
                strategies.append(operation.as_strategy(GenerationMode.POSITIVE,
                                                        path_parameters={"pk": existing}))
        strategy = st.one_of(strategies)
        for role, examples in EXAMPLES.items():
            headers = {"Authorization": f"Bearer {tokens[role]}"}

            @settings(max_examples=examples, deadline=None, derandomize=True,
                      database=None, suppress_health_check=list(HealthCheck))
            @given(case=strategy)
            def run(case):
                nonlocal cases
                cases += 1
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                run()
            except (Exception, BaseExceptionGroup) as error:  # report every operation's failures
                failures.append(f"{role} {operation.label}: {error}")
        exercised.add((operation.method.upper(), operation.path))
    print(f"{len(exercised)} operations, {cases} generated cases")
    assert exercised == documented
    assert not failures, "\n\n".join(failures)
