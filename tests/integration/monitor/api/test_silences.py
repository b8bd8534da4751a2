"""``/api/v1/silences``: create (either matcher form), read, list, expire; every mistake a 422."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from monitor.api.services.silences import silence_of
from tests.integration.monitor.api.conftest import Api, assert_error, detail_locs

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

TEXT = {"matchers_text": 'model=churn,severity=~"warn.*"', "duration": "2h", "comment": "retrain"}
OBJECTS = {
    "matchers": [
        {"name": "model", "op": "=", "value": "credit"},
        {"name": "team", "op": "!~", "value": "ml|data"},
    ],
    "ends_at": "2030-01-01T06:00:00+02:00",
    "created_by": "alice",
    "comment": "maintenance window",
}
MATCHER = {"name": "model", "op": "=", "value": "credit"}


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def at(moment: dt.datetime) -> str:
    return moment.isoformat()


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


async def create(api: Api, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    response = await api.post("/api/v1/silences", json=body, **kwargs)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    assert response.headers["location"] == f"/api/v1/silences/{created['id']}"
    return created


async def test_a_silence_from_text_starts_now_and_reads_back(api: Api) -> None:
    before = now()
    created = await create(api, TEXT)
    after = now()

    assert created["matchers"] == [
        {"name": "model", "op": "=", "value": "churn"},
        {"name": "severity", "op": "=~", "value": "warn.*"},
    ]
    assert created["matchers_text"] == 'model="churn", severity=~"warn.*"'
    assert before <= instant(created["starts_at"]) <= after
    assert instant(created["ends_at"]) - instant(created["starts_at"]) == dt.timedelta(hours=2)
    assert (created["state"], created["expired_at"]) == ("active", None)
    assert created["created_by"] == "admin"  # the token's name
    assert created["comment"] == "retrain"
    read = await api.get(f"/api/v1/silences/{created['id']}", token="reader")
    assert read.status_code == 200, read.text
    assert read.json() == created


async def test_a_silence_from_objects_keeps_its_end_and_author(api: Api) -> None:
    created = await create(api, OBJECTS)

    assert created["matchers"] == OBJECTS["matchers"]
    assert created["matchers_text"] == 'model="credit", team!~"ml|data"'
    assert instant(created["ends_at"]) == dt.datetime(2030, 1, 1, 4, tzinfo=dt.UTC)
    assert created["ends_at"].endswith("Z")
    assert created["created_by"] == "alice"
    assert created["state"] == "active"


async def test_a_future_start_is_pending_and_a_past_one_starts_now(api: Api) -> None:
    start = now() + dt.timedelta(hours=1)
    pending = await create(api, {**TEXT, "starts_at": at(start)})
    before = now()
    started = await create(api, {**TEXT, "starts_at": at(before - dt.timedelta(days=3))})

    assert pending["state"] == "pending"
    assert instant(pending["starts_at"]) == start
    assert instant(pending["ends_at"]) == start + dt.timedelta(hours=2)
    assert started["state"] == "active"
    assert instant(started["starts_at"]) >= before


async def test_the_state_moves_from_pending_to_active_to_expired(api: Api) -> None:
    start = now() + dt.timedelta(minutes=10)
    created = await create(api, {**TEXT, "starts_at": at(start), "duration": "30m"})
    end = instant(created["ends_at"])

    states = [
        silence_of(api.engine, created["id"], now=moment).state
        for moment in (start - dt.timedelta(seconds=1), start, end, end + dt.timedelta(seconds=1))
    ]

    assert created["state"] == "pending"
    assert states == ["pending", "active", "active", "expired"]


async def test_the_state_moves_on_with_the_clock(api: Api) -> None:
    """The same, through the API and the real clock: two seconds long, a second ahead."""
    start = now() + dt.timedelta(seconds=1)
    created = await create(api, {**TEXT, "starts_at": at(start), "duration": "2s"})
    seen = [created["state"]]
    deadline = start + dt.timedelta(seconds=10)
    while seen[-1] != "expired" and now() < deadline:
        await asyncio.sleep(0.1)
        state = (await api.get(f"/api/v1/silences/{created['id']}")).json()["state"]
        if state != seen[-1]:
            seen.append(state)

    assert seen == ["pending", "active", "expired"]


async def test_listing_leaves_expired_silences_out_unless_asked(api: Api) -> None:
    first = await create(api, TEXT)
    second = await create(api, OBJECTS)
    third = await create(api, {**TEXT, "starts_at": at(now() + dt.timedelta(days=1))})
    assert (await api.delete(f"/api/v1/silences/{second['id']}")).status_code == 204

    listed = await api.get("/api/v1/silences", token="reader")
    everything = await api.get("/api/v1/silences?include_expired=true", token="reader")

    assert listed.status_code == everything.status_code == 200
    assert [(s["id"], s["state"]) for s in listed.json()["items"]] == [
        (third["id"], "pending"),
        (first["id"], "active"),
    ]
    assert [(s["id"], s["state"]) for s in everything.json()["items"]] == [
        (third["id"], "pending"),
        (second["id"], "expired"),
        (first["id"], "active"),
    ]


async def test_delete_expires_once_and_then_is_a_no_op(api: Api) -> None:
    created = await create(api, TEXT)
    path = f"/api/v1/silences/{created['id']}"

    deleted = await api.delete(path)
    expired = (await api.get(path)).json()
    again = await api.delete(path)

    assert deleted.status_code == 204, deleted.text
    assert deleted.content == b""
    assert expired["state"] == "expired"
    assert expired["expired_at"] is not None
    assert again.status_code == 204, again.text
    assert (await api.get(path)).json() == expired  # the first expiry stands


async def test_a_pending_silence_expired_by_hand_never_starts(api: Api) -> None:
    created = await create(api, {**TEXT, "starts_at": at(now() + dt.timedelta(hours=1))})

    await api.delete(f"/api/v1/silences/{created['id']}")

    later = now() + dt.timedelta(hours=1, minutes=30)
    assert silence_of(api.engine, created["id"], now=later).state == "expired"


@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_an_unknown_silence_is_a_404(api: Api, method: str) -> None:
    await create(api, TEXT)

    response = await api.request(method, "/api/v1/silences/4242")

    assert_error(response, 404, "not_found", "unknown silence 4242")


async def test_without_auth_the_author_is_anonymous(open_api: Api) -> None:
    created = await create(open_api, TEXT, token=None)

    assert created["created_by"] == "anonymous"


PAST = "2020-01-01T00:00:00Z"
SOON = now() + dt.timedelta(days=365)


@pytest.mark.parametrize(
    ("body", "loc", "fragment"),
    [
        pytest.param(
            {**TEXT, "matchers": [MATCHER]},
            ["body", "matchers_text"],
            "give matchers or matchers_text, not both",
            id="both-matcher-forms",
        ),
        pytest.param(
            {"duration": "2h", "comment": "x"},
            ["body", "matchers"],
            "missing: give matchers",
            id="no-matchers",
        ),
        pytest.param(
            {**TEXT, "matchers_text": 'severity=~"warn(.*"'},
            ["body", "matchers_text"],
            "invalid regular expression 'warn(.*'",
            id="bad-regex-in-text",
        ),
        pytest.param(
            {**OBJECTS, "matchers": [MATCHER, {"name": "team", "op": "=~", "value": "["}]},
            ["body", "matchers", 1, "value"],
            "invalid regular expression '['",
            id="bad-regex-in-objects",
        ),
        pytest.param(
            {**TEXT, "matchers_text": "model churn"},
            ["body", "matchers_text"],
            "invalid matcher 'model churn'",
            id="text-not-a-matcher",
        ),
        pytest.param(
            {**TEXT, "matchers_text": 'model=~".*",team!="ml"'},
            ["body", "matchers_text"],
            "at least one matcher must not match the empty string",
            id="all-match-empty-in-text",
        ),
        pytest.param(
            {**OBJECTS, "matchers": [{"name": "model", "op": "!=", "value": "credit"}]},
            ["body", "matchers"],
            "at least one matcher must not match the empty string",
            id="all-match-empty-in-objects",
        ),
        pytest.param(
            {**TEXT, "matchers_text": "{}"},
            ["body", "matchers_text"],
            "needs at least one matcher",
            id="empty-text",
        ),
        pytest.param(
            {**OBJECTS, "matchers": []}, ["body", "matchers"], "must not be empty", id="no-objects"
        ),
        pytest.param(
            {**OBJECTS, "matchers": [{**MATCHER, "name": "9lives"}]},
            ["body", "matchers", 0, "name"],
            "must match",
            id="bad-label-name",
        ),
        pytest.param(
            {**OBJECTS, "matchers": [{**MATCHER, "op": "=="}]},
            ["body", "matchers", 0, "op"],
            "must be one of '=', '!=', '=~' or '!~'",
            id="bad-op",
        ),
        pytest.param(
            {**OBJECTS, "matchers": [{**MATCHER, "isRegex": False}]},
            ["body", "matchers", 0, "isRegex"],
            "unknown field",
            id="unknown-matcher-field",
        ),
        pytest.param(
            {
                **OBJECTS,
                "starts_at": at(SOON + dt.timedelta(hours=2)),
                "ends_at": at(SOON + dt.timedelta(hours=1)),
            },
            ["body", "ends_at"],
            "must be after starts_at",
            id="ends-before-starts",
        ),
        pytest.param(
            {**OBJECTS, "starts_at": at(SOON), "ends_at": at(SOON)},
            ["body", "ends_at"],
            "must be after starts_at",
            id="ends-when-it-starts",
        ),
        pytest.param(
            {**OBJECTS, "ends_at": PAST},
            ["body", "ends_at"],
            "must be in the future",
            id="ends-in-the-past",
        ),
        pytest.param(
            {**OBJECTS, "ends_at": "2030-01-01T06:00:00"},
            ["body", "ends_at"],
            "must include a timezone",
            id="naive-end",
        ),
        pytest.param(
            {**TEXT, "starts_at": "2030-01-01T06:00:00"},
            ["body", "starts_at"],
            "must include a timezone",
            id="naive-start",
        ),
        pytest.param(
            {**OBJECTS, "ends_at": "next tuesday"},
            ["body", "ends_at"],
            "must be an ISO-8601 datetime",
            id="not-a-datetime",
        ),
        pytest.param(
            {**TEXT, "duration": "3w"},
            ["body", "duration"],
            "must be a duration",
            id="bad-duration",
        ),
        pytest.param(
            {**TEXT, "duration": "2 hours"},
            ["body", "duration"],
            "must be a duration",
            id="spelled-duration",
        ),
        pytest.param(
            {**TEXT, "duration": "0s"},
            ["body", "duration"],
            "must be longer than 0s",
            id="zero-duration",
        ),
        pytest.param(
            {**TEXT, "duration": "9999999d"}, ["body", "duration"], "is too long", id="endless"
        ),
        pytest.param(
            {**TEXT, "duration": 7200}, ["body", "duration"], "must be a duration", id="number"
        ),
        pytest.param(
            {**TEXT, "ends_at": at(SOON)},
            ["body", "duration"],
            "give ends_at or duration, not both",
            id="end-and-duration",
        ),
        pytest.param(
            {"matchers_text": "model=churn", "comment": "x"},
            ["body", "ends_at"],
            "missing: give ends_at",
            id="no-end",
        ),
        pytest.param(
            {key: value for key, value in TEXT.items() if key != "comment"},
            ["body", "comment"],
            "missing required field",
            id="no-comment",
        ),
        pytest.param({**TEXT, "comment": ""}, ["body", "comment"], "must not be empty", id="empty"),
        pytest.param(
            {**TEXT, "comment": " \n "}, ["body", "comment"], "must not be blank", id="blank"
        ),
        pytest.param(
            {**TEXT, "created_by": "   "},
            ["body", "created_by"],
            "must not be blank",
            id="blank-author",
        ),
        pytest.param(
            {**TEXT, "created_by": "x" * 128},
            ["body", "created_by"],
            "at most 127 characters",
            id="long-author",
        ),
        pytest.param(
            {**TEXT, "comment": "nul \x00 byte"},
            ["body", "comment"],
            "must not contain NUL characters",
            id="nul-in-comment",
        ),
        pytest.param(
            {**TEXT, "endsAt": PAST}, ["body", "endsAt"], "unknown field", id="camel-case-field"
        ),
    ],
)
async def test_a_bad_silence_is_a_422_at_its_field(
    api: Api, body: dict[str, Any], loc: list[str | int], fragment: str
) -> None:
    response = await api.post("/api/v1/silences", json=body)

    assert_error(response, 422, "validation_error", fragment)
    assert detail_locs(response) == [loc]
    assert (await api.get("/api/v1/silences?include_expired=true")).json() == {"items": []}


async def test_every_malformed_field_is_reported_at_once(api: Api) -> None:
    body = {**TEXT, "starts_at": "2030-01-01T00:00:00", "duration": "soon", "comment": ""}

    response = await api.post("/api/v1/silences", json=body)

    assert_error(response, 422, "validation_error", "(and 2 more errors)")
    assert sorted(map(str, detail_locs(response))) == sorted(
        map(str, [["body", "starts_at"], ["body", "duration"], ["body", "comment"]])
    )


@pytest.mark.parametrize(
    ("path", "loc", "fragment"),
    [
        ("/api/v1/silences/0", ["path", "silence_id"], "must be >= 1"),
        (f"/api/v1/silences/{2**31}", ["path", "silence_id"], "must be <= 2147483647"),
        ("/api/v1/silences/first", ["path", "silence_id"], "must be an integer"),
        ("/api/v1/silences?include_expired=maybe", ["query", "include_expired"], "true or false"),
    ],
)
@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_bad_parameters_are_422s_at_their_location(
    api: Api, method: str, path: str, loc: list[str], fragment: str
) -> None:
    if method == "DELETE" and "?" in path:
        method = "GET"
    response = await api.request(method, path)

    assert_error(response, 422, "validation_error", fragment)
    assert detail_locs(response) == [loc]


@pytest.mark.parametrize(
    ("content", "media_type", "status", "code"),
    [
        (b"model=churn", "text/plain", 415, "unsupported_media_type"),
        (b"{", "application/json", 422, "validation_error"),
        (b"[]", "application/json", 422, "validation_error"),
    ],
)
async def test_a_body_that_is_not_a_silence_object_is_refused(
    api: Api, content: bytes, media_type: str, status: int, code: str
) -> None:
    response = await api.post(
        "/api/v1/silences", content=content, headers={"Content-Type": media_type}
    )

    assert_error(response, status, code)


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("GET", "/api/v1/silences", "read"),
        ("POST", "/api/v1/silences", "admin"),
        ("GET", "/api/v1/silences/1", "read"),
        ("DELETE", "/api/v1/silences/1", "admin"),
    ],
)
async def test_each_operation_needs_its_scope(api: Api, method: str, path: str, scope: str) -> None:
    created = await create(api, TEXT)
    assert created["id"] == 1

    missing = await api.request(method, path, token=None, json=TEXT)
    ingest_only = await api.request(method, path, token="ingester", json=TEXT)
    reader = await api.request(method, path, token="reader", json=TEXT)

    assert_error(missing, 401, "missing_token", f"--scope {scope}")
    assert_error(ingest_only, 403, "insufficient_scope")
    if scope == "admin":
        assert_error(reader, 403, "insufficient_scope")
        listed = (await api.get("/api/v1/silences")).json()["items"]
        assert [(s["id"], s["state"]) for s in listed] == [(1, "active")]  # nothing changed
    else:
        assert reader.status_code == 200, reader.text


async def test_the_operations_are_documented(api: Api) -> None:
    document = (await api.get("/openapi.json", token=None)).json()

    post = document["paths"]["/api/v1/silences"]["post"]
    delete = document["paths"]["/api/v1/silences/{silence_id}"]["delete"]

    assert post["security"] == [{"bearer": ["admin"]}]
    assert set(post["responses"]) == {"201", "401", "403", "415", "422", "503"}
    assert "Location" in post["responses"]["201"]["headers"]
    assert set(post["requestBody"]["content"]["application/json"]["examples"]) == {
        "text",
        "objects",
    }
    assert delete["security"] == [{"bearer": ["admin"]}]
    assert set(delete["responses"]) == {"204", "401", "403", "404", "422", "503"}
