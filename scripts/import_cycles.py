"""Import cycles between the project's own modules.

Walks the `import` statements (every one, at any depth: a function-level import still ties two modules
together) of the packages below with `ast`, builds the module graph and prints its strongly connected
components of more than one module, largest first. Exit status 1 when there is any cycle.

    .venv/bin/python scripts/import_cycles.py            # the cycles
    .venv/bin/python scripts/import_cycles.py --count    # one line: modules, edges, cycles
    .venv/bin/python scripts/import_cycles.py --packages # the same between top-level packages
    .venv/bin/python scripts/import_cycles.py --layers   # imports between packages that go up LAYERS

Between packages, the app factory (`core`, i.e. core/__init__.py: create_app) is left out: it is the one
place meant to import every package, to register models, blueprints and commands.
A package imports only from packages of a lower layer: core <- jou, pmi <- maps, stats <- fixtures.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "jou", "pmi", "maps", "stats", "fixtures")
COMPOSITION_ROOTS = {"core"}
LAYERS = {"core": 0, "jou": 1, "pmi": 1, "maps": 2, "stats": 2, "fixtures": 3}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module `name` lives in: itself, or the nearest package above it."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import sub` imports the submodule when there is one, else a name of pkg.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names
            ]
        else:
            continue
        for target in targets:
            resolved = resolve(target, modules)
            if resolved and resolved != name:
                found.add(resolved)
    return found


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (the graph is small but recursion limits are not worth the risk)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def package_graph(graph: dict[str, set[str]]) -> tuple[dict[str, set[str]], dict[tuple[str, str], set[str]]]:
    """The graph between top-level packages, and for each edge the module imports behind it."""
    packages: dict[str, set[str]] = {name.split(".")[0]: set() for name in graph}
    why: dict[tuple[str, str], set[str]] = {}
    for name, targets in graph.items():
        if name in COMPOSITION_ROOTS:
            continue
        source = name.split(".")[0]
        for target in targets:
            top = target.split(".")[0]
            if top != source:
                packages[source].add(top)
                why.setdefault((source, top), set()).add(f"{name}->{target}")
    return packages, why


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """The module imports whose target package is not in a lower layer than their own package."""
    _, why = package_graph(graph)
    return sorted(
        f"{source} -> {target}  ({', '.join(sorted(behind))})"
        for (source, target), behind in why.items()
        if LAYERS[target] >= LAYERS[source]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", action="store_true", help="one summary line only")
    parser.add_argument("--packages", action="store_true", help="cycles between top-level packages")
    parser.add_argument("--layers", action="store_true", help="imports between packages that go up LAYERS")
    args = parser.parse_args()
    modules = project_modules()
    graph = {name: imports_of(name, path, modules) for name, path in modules.items()}
    if args.layers:
        upward = upward_imports(graph)
        if not args.count:
            for line in upward:
                print(line)
        print(
            f"{len(PACKAGES)} packages in {len(set(LAYERS.values()))} layers, {len(upward)} imports going up"
        )
        return 1 if upward else 0
    why: dict[tuple[str, str], set[str]] = {}
    if args.packages:
        graph, why = package_graph(graph)
    unit = "packages" if args.packages else "modules"
    cycles = sorted((c for c in strongly_connected(graph) if len(c) > 1), key=lambda c: (-len(c), c))
    edges = sum(len(targets) for targets in graph.values())
    if not args.count:
        for component in cycles:
            print(f"{len(component)} {unit}: {', '.join(component)}")
            for name in component:
                for target in sorted(graph[name] & set(component)):
                    behind = sorted(why.get((name, target), ()))
                    shown = ", ".join(behind[:4]) + (f", … {len(behind) - 4} more" if len(behind) > 4 else "")
                    print(f"    {name} -> {target}" + (f"  ({shown})" if behind else ""))
    in_cycles = sum(len(c) for c in cycles)
    print(f"{len(graph)} {unit}, {edges} imports, {len(cycles)} cycles ({in_cycles} {unit} in them)")
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
