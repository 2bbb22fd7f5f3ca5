"""The service routes' request and response models (published in `/openapi.json`)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from broker.schemas import Body, Query

APP_USER_ID = r"^[\x21-\x7e]{1,128}$"
APP_USER_HELP = "The app's own id for its user: 1 to 128 printable ASCII characters, no space."


class ConnectSessionRequest(Body):
    app_user_id: str = Field(pattern=APP_USER_ID, description=APP_USER_HELP)
    return_to: str | None = Field(None, max_length=2048, description=(
        "Where the browser lands afterwards (#connected=<account_id> or #error=<code>): a path "
        "on SPA_URL's origin or an absolute URL on one of SPA_ORIGINS; default SPA_URL."))
    scope: str | None = Field(None, max_length=512,
                              description="Extra TikTok scopes, comma-separated.")
    error_codes: ClassVar[dict[str, str]] = {"app_user_id": "invalid_app_user_id",
                                             "return_to": "invalid_return_to",
                                             "scope": "invalid_scope"}
    malformed_code: ClassVar[str] = "invalid_request"


class ConnectSessionCreated(BaseModel):
    connect_url: str = Field(description="The one-time link (single use) for the user's browser.")
    expires_in: int = Field(description="Seconds the link stays usable (at most 600).")


class ConnectQuery(Query):
    connect_token: str | None = Field(None, max_length=200,
                                      description="The link's one-time token.")


class ConnectedAccount(BaseModel):
    account_id: str = Field(description="The TikTok open_id; send it as Broker-Account.")
    display_name: str | None
    avatar_url: str | None
    scopes: list[str] = Field(description="The TikTok scopes the account granted.")
    connected_at: int = Field(description="When this app user connected it, epoch seconds.")
    status: Literal["active", "reauth_required"]


class AccountList(BaseModel):
    accounts: list[ConnectedAccount]


class UnlinkQuery(Query):
    revoke: Literal["true", "false", "1", "0"] = Field(
        "false", description="true: also revoke at TikTok, once nothing else holds the account.")


class UserTokenRequest(Body):
    app_user_id: str = Field(pattern=APP_USER_ID, description=APP_USER_HELP)
    error_codes: ClassVar[dict[str, str]] = {"app_user_id": "invalid_app_user_id"}
    malformed_code: ClassVar[str] = "invalid_request"


class TikTokToken(BaseModel):
    access_token: str = Field(description="TikTok's own access token for the account.")
    expires_in: int
    scope: str = Field(description="The granted TikTok scopes, comma-separated.")
    open_id: str
