"""Command line: `python -m broker check-config`, `generate-keys`, `doctor`, `worker [--check]`,
`send-test-event` and `service-keys create|list|revoke`."""

from __future__ import annotations

import argparse
import secrets
import sys

from broker.accounts.commands import service_keys
from broker.config.environment import ConfigError
from broker.config.keys import generate_encryption_key
from broker.config.settings import Settings
from broker.doctor.run import run as run_doctor
from broker.worker import main as run_worker
from broker.worker import send_test_event


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


def doctor() -> int:
    """Ask TikTok and the public URL whether this setup works; print each finding and its fix."""
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    return run_doctor(settings, sys.stdout)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["service-keys"]:  # its own sub-commands: create, list, revoke
        return service_keys(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m broker")
    parser.add_argument("command", choices=["check-config", "generate-keys", "doctor", "worker",
                                            "send-test-event", "service-keys"])
    parser.add_argument("--check", action="store_true",
                        help="worker: exit 0 when a worker and its scheduler are alive")
    args = parser.parse_args(argv)
    if args.command == "worker":
        return run_worker(["--check"] if args.check else [])
    commands = {"check-config": check_config, "generate-keys": generate_keys, "doctor": doctor,
                "send-test-event": send_test_event}
    return commands[args.command]()


if __name__ == "__main__":
    sys.exit(main())
