"""`@documented` and `/openapi.json` in-process: the document lists every route, its schemas are
the views' own models, and bad input is refused in the broker's error shape with its own codes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask, Response
from openapi_spec_validator import validate

from broker import create_app
from broker.errors import register_error_handlers
from broker.profiles import FIELD_SCOPES
from broker.schemas import ErrorBody, PhotoRequest, PostStarted, Profile, VideoRequest
from broker.web.contract import Reply, body_of, documented, reply
from broker.web.openapi import build_document, undocumented
from tests.support.apps import make_settings


@pytest.fixture(scope="module")
def broker_app() -> Flask:
    return create_app(make_settings(TIKTOK_VERIFICATION_FILES="tiktokXYZ.txt=hello"))


@pytest.fixture(scope="module")
def document(broker_app: Flask) -> dict[str, Any]:
    answer = broker_app.test_client().get("/openapi.json")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    return answer.get_json()


def test_document_is_valid_openapi_31(document):
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_route_is_documented_with_its_methods(broker_app, document):
    assert undocumented(broker_app) == []
    expected: dict[str, set[str]] = {}  # a path may have rules in two blueprints (/api/videos)
    for rule in broker_app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        expected.setdefault(path, set()).update(
            {m.lower() for m in rule.methods or ()} - {"head", "options"})
    for path, methods in expected.items():
        assert set(document["paths"][path]) == methods, path


def test_the_summary_is_the_views_docstring(document):
    me = document["paths"]["/api/me"]["get"]
    assert me["summary"] == ("The user's TikTok profile, limited to the granted scopes, briefly "
                             "cached.")
    upload = document["paths"]["/api/uploads/{publish_id}"]["put"]["summary"]
    assert upload == "Stream the video's bytes; the broker sends them to TikTok chunk by chunk."


def test_a_documented_view_needs_a_docstring():
    with pytest.raises(TypeError, match="docstring"):
        documented(responses={})(lambda: None)


def test_an_undocumented_route_is_reported():
    app = Flask(__name__, static_folder=None)
    app.add_url_rule("/bare", "bare", lambda: "x")
    assert undocumented(app) == ["['GET'] /bare"]
    assert "/bare" not in build_document(app)["paths"]


def test_schemas_come_from_the_models(document):
    schemas = document["components"]["schemas"]
    assert schemas["VideoRequest"]["properties"]["mode"]["enum"] == ["direct", "draft"]
    assert set(schemas["ErrorBody"]["required"]) == {"error", "error_description"}
    assert schemas["PostStarted"]["properties"].keys() == PostStarted.model_fields.keys()
    videos = document["paths"]["/api/videos"]["post"]
    assert videos["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/VideoRequest"}
    assert videos["security"] == [{"bearerAuth": []}, {"serviceKey": ["posts:write"]}]
    assert "WWW-Authenticate" in videos["responses"]["401"]["headers"]
    assert all(r["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
               for s, r in videos["responses"].items() if int(s) >= 400)


def test_special_routes_are_described(document):
    paths = document["paths"]
    assert "Location" in paths["/login"]["get"]["responses"]["302"]["headers"]
    assert "Location" in paths["/auth/callback"]["get"]["responses"]["302"]["headers"]
    assert paths["/auth/refresh"]["post"]["security"] == [{"refreshCookie": []}]
    cookie = document["components"]["securitySchemes"]["refreshCookie"]
    assert cookie == {**cookie, "in": "cookie", "name": "broker_refresh"}
    upload = paths["/api/uploads/{publish_id}"]["put"]["requestBody"]["content"]
    assert "application/octet-stream" in upload and "video/mp4" in upload
    webhook = paths["/webhooks/tiktok"]["post"]
    assert [p["name"] for p in webhook["parameters"]] == ["TikTok-Signature"]
    assert paths["/logout"]["post"]["responses"].keys() >= {"204", "401"}
    assert "text/plain" in paths["/tiktokXYZ.txt"]["get"]["responses"]["200"]["content"]
    assert "/.well-known/jwks.json" in paths and "/healthz" in paths and "/readyz" in paths


def test_profile_model_has_every_profile_field():
    assert set(Profile.model_fields) == set(FIELD_SCOPES)


@pytest.fixture(scope="module")
def echo() -> Any:
    """A bare app with one documented JSON route per request model."""
    app = Flask(__name__)
    register_error_handlers(app)

    def route(model: Any, path: str) -> None:
        @documented(body=model, responses={200: Reply("ok", PostStarted)})
        def view() -> Response:
            """Echo."""
            body_of(model)
            return reply(PostStarted(publish_id="p"))
        app.add_url_rule(path, path, view, methods=["POST"])

    route(VideoRequest, "/videos")
    route(PhotoRequest, "/photos")
    return app.test_client()


@pytest.mark.parametrize(("body", "code"), [
    ({}, "invalid_mode"),
    ({"mode": "publish"}, "invalid_mode"),
    ({"mode": "direct", "post_info": []}, "invalid_post_info"),
    ({"mode": "direct", "post_info": {"colour": "red"}}, "invalid_post_info"),
    ({"mode": "direct", "post_info": {"disable_duet": "yes"}}, "invalid_post_info"),
    ({"mode": "direct", "post_info": {"video_cover_timestamp_ms": True}}, "invalid_post_info"),
    ({"mode": "direct", "post_info": {"title": 5}}, "invalid_post_info"),
    ({"mode": "direct", "post_info": {"privacy_level": "EVERYONE"}}, "invalid_privacy_level"),
    ({"mode": "direct", "video_size": True}, "invalid_video_size"),
    ({"mode": "direct", "video_size": 1.5}, "invalid_video_size"),
    ({"mode": "direct", "video_size": 0}, "invalid_video_size"),
    ({"mode": "direct", "video_url": 42}, "media_url_not_https"),
])
def test_video_refusals_keep_the_broker_codes(echo, body, code):
    answer = echo.post("/videos", json=body)
    assert answer.status_code == 400
    assert answer.get_json().keys() == {"error", "error_description"}
    assert answer.get_json()["error"] == code
    ErrorBody.model_validate(answer.get_json())


@pytest.mark.parametrize(("body", "code"), [
    ({"mode": "draft", "photo_images": []}, "invalid_photo_images"),
    ({"mode": "draft", "photo_images": ["https://a.test/1.jpg"] * 36}, "invalid_photo_images"),
    ({"mode": "draft", "photo_images": "https://a.test/1.jpg"}, "invalid_photo_images"),
    ({"mode": "draft", "photo_images": ["https://a.test/1.jpg"], "photo_cover_index": -1},
     "invalid_photo_cover_index"),
])
def test_photo_refusals_keep_the_broker_codes(echo, body, code):
    assert echo.post("/photos", json=body).get_json()["error"] == code


def test_accepted_bodies_reach_the_view(echo):
    assert echo.post("/videos", json={"mode": "draft", "video_size": 10}).status_code == 200
    assert echo.post("/videos", json={"mode": "direct", "post_info": None,
                                      "video_url": "https://a.test/v.mp4",
                                      "unknown_top_level": 1}).status_code == 200
    assert echo.post("/photos", json={"mode": "direct", "photo_images": ["https://a.test/1"],
                                      "post_info": {"auto_add_music": True}}).status_code == 200


def test_malformed_and_oversized_bodies(echo):
    for data, kwargs in (("nope", {"content_type": "application/json"}), ("[1]", {}),
                         ('{"mode": "draft"}', {"content_type": "text/plain"})):
        answer = echo.post("/videos", data=data, **kwargs)
        assert answer.status_code == 400 and answer.get_json()["error"] == "invalid_json"
    deep = echo.post("/videos", data="[" * 30_000 + "]" * 30_000, content_type="application/json")
    assert deep.status_code == 400 and deep.get_json()["error"] == "invalid_json"
    big = echo.post("/videos", json={"mode": "draft", "pad": "x" * 70_000})
    assert big.status_code == 413 and big.get_json()["error"] == "payload_too_large"


def test_a_lone_surrogate_is_refused_not_a_500(echo):
    answer = echo.post("/photos", data='{"mode": "draft", "photo_images": ["\\ud800"]}',
                       content_type="application/json")
    assert answer.status_code == 400 and answer.get_json()["error"] == "invalid_json"


def test_validation_message_names_the_field_but_not_the_value(echo):
    answer = echo.post("/videos", json={"mode": "direct", "post_info": {"title": ["secret"]}})
    description = answer.get_json()["error_description"]
    assert description.startswith("post_info.title:") and "secret" not in description
