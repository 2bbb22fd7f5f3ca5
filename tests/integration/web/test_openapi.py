"""`/openapi.json` against a live broker (gunicorn, Redis, the sandbox as TikTok).

The document must be valid OpenAPI 3.1 and name every Flask route; bodies its request models
accept must not be refused as malformed; and schemathesis, calling every operation with a real
login's JWT, must find no 5xx and no status, header, content type or body the document does not
describe. Bounded: 20 examples per operation, no shrinking, a few minutes at most.
"""

from __future__ import annotations

import os

import pytest
import requests
import schemathesis
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.flows import login
from tests.support.service import create_key

# Profiles cached for the whole run and no inbound rate limits: the fuzzer's many calls then cost
# TikTok (the sandbox, with its own per-user limits) little, and its answers stay deterministic.
FUZZ_ENV = {"PROFILE_CACHE_TTL": "3600", "RATE_LIMIT_ENABLED": "false"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))  # FUZZ_RANDOM=1: a new sample each run
TIMEOUT = 15  # seconds per call; TikTok calls time out after 3 s in the test broker


USER = "-000bob"  # a private account: an unaudited app may post for it (as SELF_ONLY)
ROOMY = {"posts_per_day": 100_000, "pending_share_cap": 100_000}


@pytest.fixture(scope="module")
def live(broker_factory, tiktok):
    """The broker under test and a bearer JWT from a real login (all scopes); TikTok's daily
    posting caps lifted for the run, as the fuzzer starts many posts."""
    tiktok.clear_faults()
    before = tiktok.config()
    tiktok.configure(**ROOMY)
    broker = broker_factory(**FUZZ_ENV)
    yield broker, login(broker.url, user=USER).access_token, create_key(broker)
    tiktok.configure(**{k: before[k] for k in ROOMY})


@pytest.fixture(scope="module")
def document(live) -> dict:
    broker = live[0]
    answer = requests.get(f"{broker.url}/openapi.json", timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    return answer.json()


def test_document_is_valid_openapi_31_and_names_every_route(document):
    assert document["openapi"] == "3.1.0"
    validate(document)
    paths = document["paths"]
    for path in ("/login", "/auth/callback", "/auth/session", "/auth/refresh", "/logout",
                 "/api/me", "/api/creator-info", "/api/videos", "/api/photos",
                 "/api/uploads/{publish_id}", "/api/publish/{publish_id}",
                 "/api/publish/{publish_id}/cancel", "/webhooks/tiktok", "/healthz", "/readyz",
                 "/.well-known/jwks.json", "/openapi.json", "/service/connect-sessions",
                 "/service/connect", "/service/users/{app_user_id}/accounts",
                 "/service/users/{app_user_id}/accounts/{account_id}", "/service/user-tokens",
                 "/service/accounts/{account_id}/token"):
        assert path in paths, path


def test_every_path_the_broker_serves_is_documented(live, document):
    broker = live[0]
    if requests.get(f"{broker.url}/metrics", timeout=10).status_code == 200:
        assert "text/plain" in document["paths"]["/metrics"]["get"]["responses"]["200"]["content"]


def test_bodies_the_models_accept_are_not_refused_as_malformed(live):
    broker, token, _ = live
    headers = {"Authorization": f"Bearer {token}"}
    accepted = [
        ("/api/videos", {"mode": "draft", "video_url": "https://media.example.com/a.mp4"}),
        ("/api/videos", {"mode": "direct", "video_size": 1024,
                         "post_info": {"privacy_level": "SELF_ONLY", "title": "t",
                                       "disable_duet": True, "video_cover_timestamp_ms": 5}}),
        ("/api/photos", {"mode": "draft", "photo_images": ["https://media.example.com/1.jpg"],
                         "post_info": {"title": "t", "description": "d"}}),
    ]
    for path, body in accepted:
        answer = requests.post(f"{broker.url}{path}", json=body, headers=headers, timeout=10)
        assert answer.status_code == 201, (path, answer.text)
    session = requests.post(f"{broker.url}/auth/session", json={"login_code": "unknown"},
                            timeout=10)
    assert session.status_code == 400 and session.json()["error"] == "invalid_grant"


def test_json_python_cannot_take_is_a_4xx(live):
    """Found while fuzzing: nesting past the parser's recursion limit, and unpaired surrogates
    (valid JSON, not text: a title's UTF-16 length could not be counted) were 500s."""
    broker, token, _ = live
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    bodies = ["[" * 30_000 + "]" * 30_000,
              '{"mode": "direct", "video_size": 1024, "post_info": {"title": "\\ud800", '
              '"privacy_level": "SELF_ONLY"}}']
    for path in ("/api/videos", "/auth/session"):
        for body in bodies:
            answer = requests.post(f"{broker.url}{path}", data=body, headers=headers, timeout=10)
            assert answer.status_code == 400, (path, answer.text)
            assert answer.json()["error"] in ("invalid_json", "invalid_request")


@pytest.fixture(scope="module")
def api_schema(live, document):
    broker = live[0]
    schema = schemathesis.openapi.from_url(f"{broker.url}/openapi.json")
    schema.config.update(base_url=broker.url)
    schema.config.generation.update(max_examples=MAX_EXAMPLES, no_shrink=True, database="none",
                                    deterministic=not os.environ.get("FUZZ_RANDOM"))
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.exclude(path="/logout").parametrize()
def test_api_conforms_to_its_document(case, live):
    """Every operation but /logout (which would end the shared session) with the shared JWT;
    the service routes with a service key holding every scope."""
    _, token, key = live
    credential = key if case.path.startswith("/service/") else token
    case.call_and_validate(headers={"Authorization": f"Bearer {credential}"}, checks=CHECKS,
                           timeout=TIMEOUT)


@schema.include(path="/logout").parametrize()
def test_logout_conforms_to_its_document(case, live):
    """/logout ends the session it is called with, so each example logs in afresh."""
    broker = live[0]
    token = login(broker.url, user=USER).access_token
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS,
                           timeout=TIMEOUT)
