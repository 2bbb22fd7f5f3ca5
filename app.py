"""The WSGI entry point: `gunicorn app:app` (settings come from the environment)."""
from broker import create_app

app = create_app()
