"""The apps' layering (issue 8, "no import cycles between apps").

Read from the source with :mod:`ast`, so an import inside a function counts as much as one at the top of
a module (a lazy import hides a dependency, it does not remove it). The layers, lowest first:

0. ``orderdesk`` — the shared kernel (roles and field classes, errors, API and admin base classes, page
   helpers, exports, media); it imports no app. Its composition root (:data:`COMPOSITION_ROOT`: URLs,
   settings, Celery, WSGI) wires every app together and may import them all.
1. ``notifications`` — the one pipeline every app sends through (``notify()``, the outbox, preferences, the
   reader's language). It owns its model (the order is a foreign key by name) and imports no app, so the
   order and every department may call it; nothing it does calls back. (Issue 8 leaves its place open; with
   every sender calling one ``notify()`` it sits below its senders, not beside the departments.)
2. ``orders`` — owns the order: its models, lifecycle, services and pages.
3. ``production``, ``logistics``, ``finance``, ``feedback`` — the departments; each builds on the order and
   registers what the order must show or trigger (its order-page panel, its transition after-effects, its
   scheduled checks) from its ``AppConfig.ready()`` or by dotted path in the lifecycle registry.
4. ``supervision`` — reads everything (KPIs, review, audit, the demo data and the benchmarks).

A lower layer never imports a higher one, and no two apps import each other, directly or round a longer
loop. The failure message names every offending import with its file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {
    "orderdesk": 0,
    "notifications": 1,
    "orders": 2,
    "production": 3,
    "logistics": 3,
    "finance": 3,
    "feedback": 3,
    "supervision": 4,
}
#: the project package's modules that assemble the apps (everything else in `orderdesk` is the kernel)
COMPOSITION_ROOT = frozenset({
    "orderdesk/urls.py", "orderdesk/api_urls.py", "orderdesk/settings.py", "orderdesk/celery.py", "orderdesk/wsgi.py",
})


def _imports(path: Path):
    """Every absolute import in the module, at any depth: (imported module, line)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno


def app_imports() -> dict[tuple[str, str], list[str]]:
    """(importing app, imported app) → where, for every import from one app into another."""
    edges: dict[tuple[str, str], list[str]] = {}
    for app in LAYERS:
        for path in sorted((ROOT / app).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if "/migrations/" in rel or rel in COMPOSITION_ROOT:
                continue
            for module, line in _imports(path):
                target = module.split(".")[0]
                if target in LAYERS and target != app:
                    edges.setdefault((app, target), []).append(f"{rel}:{line} imports {module}")
    return edges


def _cycles(edges) -> list[list[str]]:
    """The strongly connected components of more than one app (Tarjan's algorithm)."""
    graph = {app: sorted({b for (a, b) in edges if a == app}) for app in LAYERS}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[list[str]] = []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for app in LAYERS:
        if app not in index:
            visit(app)
    return components


def test_the_scanner_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import a\n\ndef f():\n    from orders.models import Order\n    import production.models\n")
    assert [m for m, _line in _imports(module)] == ["a", "orders.models", "production.models"]
    assert _cycles({("orders", "production"): ["x"], ("production", "orders"): ["y"]}) == [["orders", "production"]]
    assert _cycles({("production", "orders"): ["y"], ("supervision", "production"): ["z"]}) == []


def test_the_kernel_imports_no_app():
    offending = [w for (a, _b), where in app_imports().items() if a == "orderdesk" for w in where]
    assert not offending, "the shared kernel `orderdesk` imports an app:\n" + "\n".join(offending)


def test_no_layer_imports_a_higher_one():
    edges = app_imports()
    offending = [
        f"{a} (layer {LAYERS[a]}) -> {b} (layer {LAYERS[b]}): {w}"
        for (a, b), where in sorted(edges.items()) if LAYERS[b] > LAYERS[a] for w in where
    ]
    assert not offending, "imports from a lower layer into a higher one:\n" + "\n".join(offending)


def test_no_import_cycle_between_apps():
    edges = app_imports()
    cycles = _cycles(edges)
    lines = []
    for component in cycles:
        lines.append("cycle: " + " <-> ".join(component))
        for (a, b), where in sorted(edges.items()):
            if a in component and b in component and LAYERS[b] >= LAYERS[a]:  # the edges that close the loop
                lines += [f"    {a} -> {b}: {w}" for w in where]
    assert not cycles, "\n".join(lines)
