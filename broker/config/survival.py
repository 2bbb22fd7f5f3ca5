"""The variables of "posting that survives": scheduled posts, the worker, media sources and the
events sent to the app's backend (read with the rest by broker.config.environment)."""

from __future__ import annotations

import base64
import ipaddress
from typing import Any

from broker.config.parsing import VariableReader, split
from broker.config.urls import is_web_url

VARIABLES = frozenset({
    "POST_RECORD_DAYS", "POST_LEASE_SECONDS", "POST_RETRY_SECONDS", "POST_CAP_RETRY_SECONDS",
    "MEDIA_SOURCE_HOSTS", "MEDIA_SOURCE_CA_FILE", "MEDIA_SOURCE_TIMEOUT",
    "APP_WEBHOOK_URL", "APP_WEBHOOK_SECRET", "WORKER_MAINTENANCE_SECONDS",
})


def read(reader: VariableReader, dev: bool) -> dict[str, Any]:
    """The Settings fields these variables set; problems go to `reader.problems`."""
    url, secret = reader.get("APP_WEBHOOK_URL"), reader.get("APP_WEBHOOK_SECRET")
    if url and (not is_web_url(url) or (url[:8].lower() != "https://" and not dev)):
        reader.problems.append("APP_WEBHOOK_URL: an absolute https URL (http only in "
                               "development)")
    if bool(url) != bool(secret):
        reader.problems.append("APP_WEBHOOK_URL and APP_WEBHOOK_SECRET: set both or neither")
    if secret and not _webhook_secret_ok(secret):
        reader.problems.append("APP_WEBHOOK_SECRET: whsec_ followed by base64 of 24 to 64 "
                               "random bytes (Standard Webhooks)")
    hosts = tuple(h.lower().strip("[]") for h in split(reader.get("MEDIA_SOURCE_HOSTS")))
    for host in hosts:
        if not host.replace(".", "").replace("-", "").replace(":", "").isalnum() \
                and not _is_ip(host):
            reader.problems.append(f"MEDIA_SOURCE_HOSTS: {host!r} is not a host name or IP")
    return {
        "post_record_days": reader.integer("POST_RECORD_DAYS", 1, 365),
        "post_lease": reader.integer("POST_LEASE_SECONDS", 2, 3600),
        "post_retry_base": reader.integer("POST_RETRY_SECONDS", 1, 3600),
        "post_cap_retry": reader.integer("POST_CAP_RETRY_SECONDS", 1, 86_400),
        "media_source_hosts": hosts or None,
        "media_source_ca_file": reader.get("MEDIA_SOURCE_CA_FILE") or None,
        "media_source_timeout": reader.integer("MEDIA_SOURCE_TIMEOUT", 1, 600),
        "app_webhook_url": url or None,
        "app_webhook_secret": secret or None,
        "worker_maintenance": reader.integer("WORKER_MAINTENANCE_SECONDS", 1, 3600),
    }


def _webhook_secret_ok(secret: str) -> bool:
    if not secret.startswith("whsec_"):
        return False
    try:
        raw = base64.b64decode(secret[6:], validate=True)
    except ValueError:
        return False
    return 24 <= len(raw) <= 64


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
