"""The layout of broker/ is its architecture (README "Code layout"); these checks keep it so.

Layers, top to bottom; a module may import its own layer or any layer below, never above:
views → web → services → features (auth, posting, grants, profiles, webhooks, videos) →
tiktok →
config, storage, errors, clock, schemas.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BROKER = Path(__file__).resolve().parents[1] / "broker"
LAYERS = {  # the first dotted part under broker -> its rank (higher imports lower)
    "__init__": 7, "__main__": 7, "views": 6, "web": 5, "services": 4,
    "auth": 3, "posting": 3, "grants": 3, "profiles": 3, "webhooks": 3, "videos": 3,
    "doctor": 3, "jobs": 3, "sources": 3, "worker": 5, "accounts": 3,
    "tiktok": 2, "config": 1, "storage": 1, "errors": 1, "clock": 1, "schemas": 1,
}
# Features may use one another only along these edges (the one direction each is allowed).
FEATURE_EDGES = {("auth", "grants"), ("auth", "profiles"), ("posting", "grants"),
                 ("posting", "auth"), ("webhooks", "grants"), ("webhooks", "posting"),
                 ("profiles", "grants"), ("videos", "grants"), ("jobs", "posting"),
                 ("jobs", "sources"), ("jobs", "auth"), ("accounts", "auth"),
                 ("accounts", "grants"), ("accounts", "profiles")}
MODULES = sorted(p for p in BROKER.rglob("*.py") if "__pycache__" not in p.parts)


def name_of(path: Path) -> str:
    parts = list(path.relative_to(BROKER.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def broker_imports(path: Path, *, inside_functions: bool = False) -> list[str]:
    """Modules of broker/ that `path` imports (at module level, or inside functions only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    scopes = ([n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
              if inside_functions else [tree])
    found = []
    for scope in scopes:
        nodes = ast.walk(scope) if inside_functions else iter(scope.body)
        for node in nodes:
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("broker"):
                found += [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                found += [a.name for a in node.names if a.name.startswith("broker")]
    return found


def layer(module: str) -> tuple[str, int]:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    return top, LAYERS[top]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: name_of(p))
def test_imports_only_point_down(path: Path) -> None:
    own, rank = layer(name_of(path))
    for target in broker_imports(path):
        other, other_rank = layer(target)
        assert other_rank <= rank or own == "__init__", f"{name_of(path)} imports {target}"
        if rank == other_rank == 3 and own != other:
            assert (own, other) in FEATURE_EDGES, f"{name_of(path)} imports {target}"


def test_no_import_cycle() -> None:
    graph = {name_of(p): set() for p in MODULES}
    for path in MODULES:
        for target in broker_imports(path):
            while target and target not in graph:
                target = target.rpartition(".")[0]
            if target and target != name_of(path) and not target.startswith(name_of(path) + "."):
                graph[name_of(path)].add(target)
    done: set[str] = set()

    def visit(node: str, trail: tuple[str, ...]) -> None:
        assert node not in trail, "import cycle: " + " -> ".join((*trail, node))
        if node in done:
            return
        for nxt in graph[node]:
            visit(nxt, (*trail, node))
        done.add(node)

    for node in graph:
        visit(node, ())


def test_no_function_level_import_of_the_broker() -> None:
    lazy = {name_of(p): broker_imports(p, inside_functions=True) for p in MODULES}
    assert {k: v for k, v in lazy.items() if v} == {}


def test_modules_are_small_and_the_top_folder_is_short() -> None:
    long = {name_of(p): n for p in MODULES
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 250}
    assert long == {}
    assert len(list(BROKER.glob("*.py"))) <= 12


def test_every_subpackage_says_what_belongs_there() -> None:
    for init in BROKER.rglob("__init__.py"):
        assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), init


def test_views_talk_to_services_not_to_redis_or_http_clients() -> None:
    for path in (BROKER / "views").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] in ("redis", "requests") for n in names), path
