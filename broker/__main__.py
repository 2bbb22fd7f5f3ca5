"""Command line: `python -m broker check-config` and `python -m broker generate-keys`."""

from __future__ import annotations

import argparse
import secrets
import sys

from broker.config.environment import ConfigError
from broker.config.keys import generate_encryption_key
from broker.config.settings import Settings


def check_config() -> int:
    """Validate the environment as the server would; print every problem; exit 1 on any."""
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"configuration OK ({settings.environment}): callback {settings.callback_path}, "
          f"scopes {','.join(settings.scopes)}, JWT {settings.signing_keys[0].algorithm}, "
          f"{len(settings.encryption_keys)} encryption key(s)")
    return 0


def generate_keys() -> int:
    """Print fresh secrets for TOKEN_ENCRYPTION_KEYS and JWT_SIGNING_KEY (HS256)."""
    print(f"TOKEN_ENCRYPTION_KEYS={generate_encryption_key()}")
    print(f"JWT_SIGNING_KEY={secrets.token_urlsafe(48)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m broker")
    parser.add_argument("command", choices=["check-config", "generate-keys"])
    args = parser.parse_args(argv)
    return check_config() if args.command == "check-config" else generate_keys()


if __name__ == "__main__":
    sys.exit(main())
