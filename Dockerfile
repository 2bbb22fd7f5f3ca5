# Broker and sandbox image (one image, three commands):
#   broker:   gunicorn app:app -c gunicorn.conf.py   (the default CMD, port 8000)
#   sandbox:  python -m sandbox --host 0.0.0.0 --port 9000
#   demo app: python -m demo_app --host 0.0.0.0 --port 5050 (an app backend using the broker)
# Build: docker build -t tiktok-broker .   (docker compose up builds it for you)

# --- builder: turn the pinned requirements into wheels (every pin ships a binary wheel for
# linux amd64 and arm64, so no compiler is needed; a future pin without one fails here, loudly).
FROM python:3.11-slim AS builder
WORKDIR /build
COPY requirements.txt .
RUN pip wheel --no-cache-dir --wheel-dir /wheels -r requirements.txt

# --- runtime: the same base, only those wheels installed, no build tools, no pip cache.
FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# A fixed numeric UID/GID, so `runAsNonRoot` (Kubernetes) can verify it without /etc/passwd.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin app
WORKDIR /app
# The wheels are mounted for this one step instead of copied, so they never become a layer.
# --no-index: nothing but the builder's wheels can be installed.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    --mount=type=bind,source=requirements.txt,target=/tmp/requirements.txt \
    pip install --no-cache-dir --no-index --find-links=/wheels -r /tmp/requirements.txt
# Only what runs; owned by root and read-only for the app user.
COPY app.py gunicorn.conf.py ./
COPY broker/ broker/
COPY sandbox/ sandbox/
COPY demo_app/ demo_app/
USER 10001:10001
EXPOSE 8000
# No curl in slim images: Python's urllib. Exits non-zero on a refused connection, a timeout
# or any non-2xx answer. The sandbox service overrides this with its own port and path.
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["gunicorn", "app:app", "-c", "gunicorn.conf.py"]
