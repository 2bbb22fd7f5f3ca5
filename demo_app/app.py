"""An app with its own users that connects their TikTok accounts and posts for them.

Everything TikTok goes through the broker's service API with one service key (a secret of this
backend, never sent to the browser). The demo SPA reaches this backend on its own origin, under
/demo-app/ (vite's and nginx's proxy). Copy this file's calls into your backend.
"""

import os
import secrets
from pathlib import Path

import requests
from flask import Flask, abort, jsonify, request

BROKER = os.environ.get("BROKER_URL", "http://localhost:8000")  # server to server
KEY = os.environ["BROKER_SERVICE_KEY"]  # tbsk_...: accounts:read,accounts:write,posts:*
RETURN_TO = os.environ.get("DEMO_RETURN_TO", "http://localhost:5173/app")  # the SPA page
VIDEO = Path(os.environ.get("DEMO_VIDEO", "/tmp/demo-app-video.mp4"))  # noqa: S108
USERS = {"ann": "ann-password", "ben": "ben-password"}  # the app's own (toy) users
logins: dict[str, str] = {}  # demo login token -> user name (a real app has real sessions)
app = Flask(__name__)


def broker(method, path, account=None, **kwargs):
    """Call the broker as this backend: the service key, and the account to act for."""
    headers = {"Authorization": f"Bearer {KEY}", **kwargs.pop("headers", {})}
    if account:
        headers["Broker-Account"] = account
    answer = requests.request(method, BROKER + path, headers=headers, timeout=60, **kwargs)
    if answer.status_code >= 400:  # pass the broker's error on: {"error", "error_description"}
        refusal = jsonify(answer.json())
        refusal.status_code = answer.status_code
        abort(refusal)
    return answer.json() if answer.content else {}


def user():
    """The signed-in demo user (Authorization: Bearer <demo login token>)."""
    name = logins.get(request.headers.get("Authorization", "").removeprefix("Bearer "))
    return name or abort(401)


def own_account(account_id):
    """Only accounts this user connected may be used."""
    accounts = broker("GET", f"/service/users/{user()}/accounts")["accounts"]
    if account_id not in {a["account_id"] for a in accounts}:
        abort(404)
    return account_id


@app.post("/login")
def login():
    body = request.get_json(silent=True) or {}
    if not secrets.compare_digest(USERS.get(body.get("username", ""), "?"),
                                  str(body.get("password", ""))):
        abort(401)
    token = secrets.token_urlsafe(32)
    logins[token] = body["username"]
    return jsonify(token=token, username=body["username"])


@app.get("/accounts")
def accounts():
    return broker("GET", f"/service/users/{user()}/accounts")


@app.post("/connect")
def connect():
    """A one-time link for this user's browser: TikTok's consent, then back to the SPA."""
    link = broker("POST", "/service/connect-sessions",
                  json={"app_user_id": user(), "return_to": RETURN_TO})
    return jsonify(connect_url=link["connect_url"])


@app.delete("/accounts/<account_id>")
def unlink(account_id):
    broker("DELETE", f"/service/users/{user()}/accounts/{account_id}")
    return "", 204


@app.post("/accounts/<account_id>/posts")
def post(account_id):
    """Post the video this backend holds on its own disk, for one of the user's accounts."""
    account, size = own_account(account_id), VIDEO.stat().st_size
    started = broker("POST", "/api/videos", account, json={
        "mode": "direct", "video_size": size,
        "post_info": {"title": f"Made by the demo app for {user()}", "privacy_level": "SELF_ONLY"}})
    with VIDEO.open("rb") as video:  # streamed: the broker sends it to TikTok chunk by chunk
        broker("PUT", started["upload_url"], account, data=video,
               headers={"Content-Type": "video/mp4", "Content-Length": str(size)})
    return jsonify(publish_id=started["publish_id"]), 201


@app.get("/accounts/<account_id>/posts/<publish_id>")
def post_status(account_id, publish_id):
    return broker("GET", f"/api/publish/{publish_id}", own_account(account_id))


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


if not VIDEO.exists():  # a real app renders its videos; this one writes a placeholder once
    VIDEO.write_bytes(bytes(range(256)) * 4096)  # 1 MiB
