"""``GET /openapi.json``: a valid OpenAPI 3.1 document of every route of the app (issue 11)."""

from __future__ import annotations

import re

import msgspec
import pytest
from openapi_spec_validator import validate

from tests.world import MakeClient, World, amend
from tracker import config
from tracker.app import create_app
from tracker.http.openapi import document, table
from tracker.http.routes import tasks

#: Not API routes, so not in the document: the UI's pages and its static files (another
#: engineer is adding them under /ui/), and the HEAD twin aiohttp registers for every GET (every
#: HEAD is answered 404 by middleware.answer).
NOT_API = re.compile(r"^/ui(/|$)|^/static(/|$)")


def app_routes(settings: config.Settings) -> set[tuple[str, str]]:
    app = create_app(settings)
    found = set()
    for resource in app.router.resources():
        path = resource.canonical
        for route in resource:
            if route.method in {"HEAD", "OPTIONS"} or NOT_API.match(path):
                continue
            found.add((route.method, path))
    return found


def documented(doc: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in doc["paths"].items() for method in item}


@pytest.fixture
async def served(bare_world: World) -> dict:
    response = await bare_world.client.get("/openapi.json")
    assert response.status == 200
    assert response.content_type == "application/json"
    return dict(await response.json())


async def test_the_document_is_valid_openapi_3_1(served: dict) -> None:
    assert served["openapi"] == "3.1.0"
    validate(served)


async def test_every_route_of_the_app_is_in_the_document_and_nothing_else(
    served: dict, settings: config.Settings
) -> None:
    routes = app_routes(settings)
    assert len(routes) >= 49
    assert routes - documented(served) == set(), "routes missing from tracker/http/openapi/table.py"
    assert documented(served) - routes == set(), "documented operations no route serves"


def test_a_route_without_a_row_in_the_table_is_found(settings: config.Settings) -> None:
    doc = document.build(tuple(op for op in table.OPERATIONS if op.path != "/task/release"))
    assert app_routes(settings) - documented(doc) == {("POST", "/task/release")}


async def test_request_bodies_are_the_schemas_of_the_types_handlers_decode(served: dict) -> None:
    submit = served["paths"]["/task/submit"]["post"]["requestBody"]["content"]
    ref = submit["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/SubmitBody"
    _, expected = msgspec.json.schema_components([tasks.SubmitBody])
    assert served["components"]["schemas"]["SubmitBody"] == expected["SubmitBody"]
    bulk = served["components"]["schemas"]["BulkBody"]["properties"]["requests"]
    assert bulk["items"] == {"$ref": "#/components/schemas/SubmitBody"}


async def test_every_answer_is_described_in_the_envelope(served: dict) -> None:
    for path, item in served["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert any(code.startswith("2") for code in responses), (method, path)
            for code, response in responses.items():
                if code == "204":
                    assert "content" not in response
                    continue
                schema = next(iter(response["content"].values()))["schema"]
                if code.startswith(("4", "5")) and "application/json" in response["content"]:
                    assert schema == {"$ref": "#/components/schemas/Refusal"}, (method, path)


async def test_credentials_are_described_with_the_configured_names(
    make_client: MakeClient, settings: config.Settings
) -> None:
    world = await World.start(make_client, amend(settings, session={"cookie_name": "crumb"}))
    served = (await world.anonymous.get("/openapi.json")).body
    schemes = served["components"]["securitySchemes"]
    assert schemes["managerSession"] == {
        "type": "apiKey", "in": "cookie", "name": "crumb",
        "description": "the session cookie /login and /register set",
    }  # fmt: skip
    assert (schemes["workerId"]["name"], schemes["workerSecret"]["name"]) == (
        "X-Worker-Id",
        "X-Secret",
    )
    submit = served["paths"]["/task/submit"]["post"]
    assert submit["security"] == [{"workerId": [], "workerSecret": []}]
    assert {"auditToken": []} in served["paths"]["/events"]["get"]["security"]


async def test_creating_a_project_links_to_the_routes_that_take_its_id(served: dict) -> None:
    links = served["paths"]["/project/create"]["post"]["responses"]["200"]["links"]
    ids = {op["operationId"] for item in served["paths"].values() for op in item.values()}
    assert {link["operationId"] for link in links.values()} <= ids
    assert links["GetProject"]["parameters"] == {"id": "$response.body#/content/id"}
