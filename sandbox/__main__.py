"""``python -m sandbox [--host H] [--port P]``: serve the sandbox, multi-threaded."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from werkzeug.serving import make_server

from . import create_app
from .config import Config, ConfigError
from .serving import SandboxRequestHandler


def main(argv: list[str] | None = None) -> int:
    """Parse flags and SANDBOX_* variables, then serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("SANDBOX_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_PORT", "9000")))
    args = parser.parse_args(argv)
    try:
        config = Config.from_env(os.environ)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"sandbox: invalid setting: {problem}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_app(config)
    server = make_server(args.host, args.port, app, threaded=True,
                         request_handler=SandboxRequestHandler)  # Date in sandbox time
    print(f"TikTok sandbox listening on http://{args.host}:{server.port}/ "
          f"(client_key={config.client_key})", file=sys.stderr, flush=True)
    # `docker stop` sends SIGTERM to PID 1: stop serving at once, as on Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
