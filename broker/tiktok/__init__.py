"""TikTok's Open API v2: the only package that knows its URLs and quirks (tiktok-api.md)."""

from broker.tiktok.client import TikTokClient
from broker.tiktok.oauth import AuthorizationRequest, TikTokGrant

__all__ = ["AuthorizationRequest", "TikTokClient", "TikTokGrant"]
