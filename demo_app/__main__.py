"""`python -m demo_app [--host 127.0.0.1] [--port 5050]`: the demo backend (Flask's own server:
it is a demo; run yours under gunicorn)."""

import argparse
import signal
import sys

from demo_app.app import app


def _stop(signum: int, frame: object) -> None:
    sys.exit(0)  # `docker stop` sends SIGTERM to PID 1: stop now, as on Ctrl-C


signal.signal(signal.SIGTERM, _stop)
parser = argparse.ArgumentParser(prog="python -m demo_app")
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=5050)
args = parser.parse_args()
app.run(host=args.host, port=args.port, threaded=True)
