"""The admin API: every route answers as ``schemas/admin.openapi.json`` says, loopback only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from aiohttp.test_utils import make_mocked_request
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from mockserver import create_app
from mockserver.admin import ROUTES
from mockserver.errors import RequestError
from mockserver.keys import STATE_KEY

from .conftest import LEGACY_PREFIX, MockClientFactory
from .support import AUTH, search_body

DOCUMENT = json.loads(
    (Path(__file__).parent.parent / "schemas" / "admin.openapi.json").read_text("utf-8")
)
_REGISTRY = Registry().with_resource("urn:admin", DRAFT202012.create_resource(DOCUMENT))


def conforms(value: Any, schema: str) -> None:
    """Validate ``value`` against ``#/components/schemas/<schema>`` of the document."""
    validator = jsonschema.Draft202012Validator(
        {"$ref": f"urn:admin#/components/schemas/{schema}"}, registry=_REGISTRY
    )
    validator.validate(value)


def response_schema(path: str, method: str, status: int) -> dict[str, Any]:
    answer = DOCUMENT["paths"][path][method.lower()]["responses"][str(status)]
    if "$ref" in answer:
        answer = DOCUMENT["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    schema: dict[str, Any] = answer["content"]["application/json"]["schema"]
    return schema


def conforms_to_route(value: Any, path: str, method: str, status: int) -> None:
    schema = response_schema(path, method, status)
    resolved = json.loads(json.dumps(schema).replace('"#/components/', '"urn:admin#/components/'))
    jsonschema.Draft202012Validator(resolved, registry=_REGISTRY).validate(value)


def test_the_document_is_valid_openapi_3_1() -> None:
    validate_openapi(DOCUMENT)
    assert DOCUMENT["openapi"].startswith("3.1")


def test_the_document_and_the_server_have_the_same_routes() -> None:
    served = {(path, method.lower()) for method, path, _ in ROUTES}
    documented = {(path, method) for path, item in DOCUMENT["paths"].items() for method in item}
    assert served == documented


async def test_requests_lists_the_journal_in_the_documented_shape(
    mock_client: MockClientFactory,
) -> None:
    client = await mock_client()
    await client.post(f"{LEGACY_PREFIX}/responses", json=search_body(), headers=AUTH)
    await client.post(
        f"{LEGACY_PREFIX}/responses",
        json=search_body(stream=True),
        headers={**AUTH, "X-Mock-Scenario": "zero_results"},
    )
    await client.post(f"{LEGACY_PREFIX}/responses", json={"model": 1}, headers=AUTH)
    resp = await client.get("/__admin/requests")
    assert resp.status == 200
    data = await resp.json()
    conforms_to_route(data, "/__admin/requests", "GET", 200)
    entries = data["requests"]
    assert [e["status"] for e in entries] == [200, 200, 400]
    assert entries[1]["scenario"] == "zero_results"
    assert entries[1]["stream"] is True and entries[1]["events_sent"] > 10
    assert entries[0]["headers"]["Authorization"] == "Bearer REDACTED"
    assert "sk-test-0000" not in json.dumps(data)
    assert data["capacity"] == 1000
    # the admin calls themselves are not journaled
    assert all(e["path"].endswith("/responses") for e in entries)

    filtered = await (await client.get("/__admin/requests?scenario=zero_results")).json()
    assert [e["id"] for e in filtered["requests"]] == [entries[1]["id"]]
    newest = await (await client.get("/__admin/requests?limit=1")).json()
    assert [e["id"] for e in newest["requests"]] == [entries[2]["id"]]
    bad = await client.get("/__admin/requests?limit=many")
    assert bad.status == 400
    conforms(await bad.json(), "Error")

    cleared = await client.delete("/__admin/requests")
    assert await cleared.json() == {"cleared": 3}
    assert (await (await client.get("/__admin/requests")).json())["requests"] == []


async def test_expectations_round_trip_over_http(mock_client: MockClientFactory) -> None:
    client = await mock_client()
    created = await client.post(
        "/__admin/expectations",
        json={
            "match": {"model": "qwen3.5-plus", "stream": False},
            "respond": {"results": 2, "text": "Two found."},
            "times": 1,
        },
    )
    assert created.status == 201
    data = await created.json()
    conforms_to_route(data, "/__admin/expectations", "POST", 201)
    answer = await client.post(f"{LEGACY_PREFIX}/responses", json=search_body(), headers=AUTH)
    body = await answer.json()
    assert body["output"][-1]["content"][0]["text"] == "Two found."
    listed = await (await client.get("/__admin/expectations")).json()
    conforms_to_route(listed, "/__admin/expectations", "GET", 200)
    assert listed["expectations"][0]["used"] == 1 and listed["expectations"][0]["met"]
    # strict: a request matching nothing gets the explanation in the API's error shape
    miss = await client.post(
        f"{LEGACY_PREFIX}/responses", json=search_body(stream=True), headers=AUTH
    )
    assert miss.status == 404
    error = await miss.json()
    assert error["code"] == "Mock.NoMatchingExpectation"
    assert "stream: expected false, got true" in error["message"]
    cleared = await client.delete("/__admin/expectations")
    assert await cleared.json() == {"cleared": 1}


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        ({"match": {"modle": "x"}}, "unknown match field(s) modle"),
        ({"respond": "no_such"}, "Unknown scenario 'no_such'"),
        ({"respond": {"results": 101}}, "a result count must be from 0 to 100"),
        ({"times": 0}, "times must be a whole number >= 1 or None"),
        ({"faults": "close_after=x"}, "close_after must be a whole number"),
        ({"extra": 1}, "Unknown field(s): extra"),
        ([1, 2], "must be a JSON object"),
    ],
)
async def test_a_bad_expectation_is_a_400_that_says_why(
    mock_client: MockClientFactory, payload: Any, says: str
) -> None:
    client = await mock_client()
    resp = await client.post("/__admin/expectations", json=payload)
    assert resp.status == 400
    error = await resp.json()
    conforms(error, "Error")
    assert error["code"] == "Mock.InvalidAdminRequest"
    assert says in error["message"]


async def test_not_json_is_a_400(mock_client: MockClientFactory) -> None:
    client = await mock_client()
    resp = await client.post("/__admin/scenario", data=b"{nope")
    assert resp.status == 400
    assert "not valid JSON" in (await resp.json())["message"]


async def test_queued_scenarios_answer_the_next_requests_then_run_out(
    mock_client: MockClientFactory,
) -> None:
    client = await mock_client()
    resp = await client.post("/__admin/scenario", json={"scenario": "zero_results", "count": 2})
    data = await resp.json()
    conforms_to_route(data, "/__admin/scenario", "POST", 200)
    assert data == {"queued": [{"scenario": "zero_results", "remaining": 2}]}
    await client.post("/__admin/scenario", json={"scenario": "server_error"})
    statuses = []
    for _ in range(4):
        answer = await client.post(f"{LEGACY_PREFIX}/responses", json=search_body(), headers=AUTH)
        statuses.append(answer.status)
    journal = (await (await client.get("/__admin/requests")).json())["requests"]
    assert [e["scenario"] for e in journal] == [
        "zero_results",
        "zero_results",
        "server_error",
        "default",
    ]
    assert statuses == [200, 200, 500, 200]
    for bad in ({"scenario": "nope"}, {"scenario": "default", "count": 0}, {}):
        assert (await client.post("/__admin/scenario", json=bad)).status == 400


async def test_the_header_wins_over_the_queue(mock_client: MockClientFactory) -> None:
    client = await mock_client()
    await client.post("/__admin/scenario", json={"scenario": "zero_results"})
    await client.post(
        f"{LEGACY_PREFIX}/responses",
        json=search_body(),
        headers={**AUTH, "X-Mock-Scenario": "max_results"},
    )
    await client.post(f"{LEGACY_PREFIX}/responses", json=search_body(), headers=AUTH)
    journal = (await (await client.get("/__admin/requests")).json())["requests"]
    assert [e["scenario"] for e in journal] == ["max_results", "zero_results"]


async def test_reset_forgets_everything(mock_client: MockClientFactory) -> None:
    client = await mock_client()
    await client.post("/__admin/scenario", json={"scenario": "zero_results", "count": 5})
    await client.post("/__admin/expectations", json={"respond": "default", "times": None})
    await client.post(f"{LEGACY_PREFIX}/responses", json=search_body(), headers=AUTH)
    resp = await client.post("/__admin/reset")
    assert await resp.json() == {"reset": True}
    assert (await (await client.get("/__admin/requests")).json())["requests"] == []
    assert (await (await client.get("/__admin/expectations")).json())["expectations"] == []
    catalogue = await (await client.get("/__admin/scenarios")).json()
    conforms_to_route(catalogue, "/__admin/scenarios", "GET", 200)
    assert catalogue["queued"] == []
    assert client.server.app[STATE_KEY].errors() == []


async def test_scenarios_stats_and_health_conform(mock_client: MockClientFactory) -> None:
    client = await mock_client(cassette_dirs=(str(Path(__file__).parent.parent / "cassettes"),))
    catalogue = await (await client.get("/__admin/scenarios")).json()
    conforms_to_route(catalogue, "/__admin/scenarios", "GET", 200)
    assert len(catalogue["cassettes"]) == 15
    stats = await (await client.get("/__admin/stats")).json()
    conforms_to_route(stats, "/__admin/stats", "GET", 200)
    assert stats["tasks"] >= 1 and stats["in_flight"] == 0
    conforms_to_route(
        await (await client.get("/__admin/health")).json(), "/__admin/health", "GET", 200
    )


async def test_the_html_page_shows_the_journal_escaped(mock_client: MockClientFactory) -> None:
    client = await mock_client()
    await client.post(
        f"{LEGACY_PREFIX}/responses",
        json=search_body(text="<script>alert(1)</script>"),
        headers=AUTH,
    )
    resp = await client.get("/__admin/")
    assert resp.status == 200
    assert resp.content_type == "text/html"
    page = await resp.text()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert "zero_results" in page  # the catalogue
    assert LEGACY_PREFIX in page


async def test_a_wrong_method_on_an_admin_path_is_a_405_listing_the_allowed_ones(
    mock_client: MockClientFactory,
) -> None:
    client = await mock_client()
    resp = await client.put("/__admin/requests")
    assert resp.status == 405
    assert resp.headers["Allow"] == "GET, DELETE"


@pytest.mark.parametrize("remote", ["10.1.2.3", "192.168.0.7", "2001:db8::1"])
async def test_admin_refuses_other_hosts(remote: str) -> None:
    app = create_app()
    handler = {(m, p): h for m, p, h in ROUTES}[("GET", "/__admin/requests")]
    request = make_mocked_request("GET", "/__admin/requests", app=app)
    request = request.clone(remote=remote)
    with pytest.raises(RequestError) as raised:
        await handler(request)
    assert (raised.value.status, raised.value.code) == (403, "Mock.AdminForbidden")
    assert remote in raised.value.message


async def test_admin_remote_lets_other_hosts_in() -> None:
    from mockserver.journal import JournalEntry
    from mockserver.keys import ENTRY

    app = create_app(admin_remote=True)
    handler = {(m, p): h for m, p, h in ROUTES}[("GET", "/__admin/health")]
    request = make_mocked_request("GET", "/__admin/health", app=app).clone(remote="10.1.2.3")
    ENTRY.set(JournalEntry(0, "rid"))
    resp = await handler(request)
    assert resp.status == 200


def test_the_conformance_check_can_fail() -> None:
    with pytest.raises(jsonschema.ValidationError, match="'request_id' is a required property"):
        conforms_to_route({"requests": [{"id": 1}], "capacity": 1}, "/__admin/requests", "GET", 200)
    with pytest.raises(jsonschema.ValidationError):
        conforms({"code": "x"}, "Error")
