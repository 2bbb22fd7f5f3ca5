"""The SPA's one list of error messages (spa/src/errorCodes.js) names only codes the broker sends.

The broker's codes are read from its source: every `code="..."` at a raise site, every error
class's `code`, and the broker codes TikTok's errors are mapped to (API_ERRORS).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from broker.tiktok.errors import API_ERRORS

ROOT = Path(__file__).resolve().parents[1]


def broker_codes() -> set[str]:
    codes = {code for _, code, _ in API_ERRORS.values()}
    for path in (ROOT / "broker").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "code" \
                    and isinstance(node.value, ast.Constant):
                codes.add(str(node.value.value))
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple):
                names = [t.id for t in getattr(node.targets[0], "elts", [])
                         if isinstance(t, ast.Name)]
                if "code" in names:
                    value = node.value.elts[names.index("code")]
                    if isinstance(value, ast.Constant):
                        codes.add(str(value.value))
            elif isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "code" for t in node.targets) \
                    and isinstance(node.value, ast.Constant):
                codes.add(str(node.value.value))
    return codes


def spa_codes() -> set[str]:
    source = (ROOT / "spa" / "src" / "errorCodes.js").read_text(encoding="utf-8")
    block = source.split("ERROR_MESSAGES", 1)[1].split("});", 1)[0]
    return set(re.findall(r"^\s+([a-z0-9_]+):", block, re.MULTILINE))


def test_the_broker_list_is_read() -> None:
    codes = broker_codes()
    assert {"invalid_token", "scope_not_granted", "upload_url_expired", "payload_too_large",
            "spam_risk_too_many_posts", "tiktok_invalid_params"} <= codes
    assert "access_token_invalid" not in codes  # TikTok's name, mapped to reauth_required


def test_every_spa_message_is_for_a_code_the_broker_sends() -> None:
    spa = spa_codes()
    assert len(spa) >= 10
    assert spa - broker_codes() == set()
