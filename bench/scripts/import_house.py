"""The house drawn from the imports: the package's modules by floor, the arrows that climb back,
and the circles.

    python bench/scripts/import_house.py            # this checkout
    python bench/scripts/import_house.py --at REV   # the package as it was at a git revision

A module's floor is one above the highest floor of what it imports (the package's own modules
only; an import inside a function counts, as it runs all the same). A circle is a set of
modules that import each other, directly or through others; it has no floor. The package's
__init__ (which names everything) is left out.
"""
import argparse
import ast
import subprocess
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def sources(revision=None) -> dict:
    """{module: source text} of nst_tf/, from the checkout or from git at `revision`."""
    if revision is None:
        return {str(p.relative_to(ROOT)): p.read_text() for p in (ROOT / "nst_tf").rglob("*.py")}
    names = subprocess.run(["git", "-C", str(ROOT), "ls-tree", "-r", "--name-only", revision,
                            "nst_tf"], capture_output=True, text=True, check=True).stdout.split()
    return {name: subprocess.run(["git", "-C", str(ROOT), "show", f"{revision}:{name}"],
                                 capture_output=True, text=True, check=True).stdout
            for name in names if name.endswith(".py")}


def imports(texts: dict) -> dict:
    """{module: the package's modules it imports}."""
    modules = {}
    for path in texts:
        name = path[:-3].replace("/", ".")
        modules[name[:-len(".__init__")] if name.endswith(".__init__") else name] = path
    found = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(texts[path])):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nst_tf"):
                targets |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
        found[name] = {t for t in targets if t in modules and t != name and t != "nst_tf"}
    found.pop("nst_tf", None)
    return found


def circles(graph: dict) -> list:
    """The strongly connected sets of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def floors(graph: dict, loops: list) -> dict:
    """{module: floor}; a circle's modules share the floor above everything they import."""
    group_of = {m: tuple(g) for g in loops for m in g}
    floor = {}

    def level(m, seen=()):
        if m in floor:
            return floor[m]
        group = group_of.get(m, (m,))
        below = [t for g in group for t in graph[g] if t not in group and t not in seen]
        value = 1 + max((level(t, seen + group) for t in below), default=-1)
        for g in group:
            floor[g] = value
        return value

    for m in graph:
        level(m)
    return floor


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--at", help="a git revision (default: the checkout)")
    args = parser.parse_args()
    graph = imports(sources(args.at))
    loops = circles(graph)
    floor = floors(graph, loops)
    by_floor = defaultdict(list)
    for module, level in floor.items():
        by_floor[level].append(module.removeprefix("nst_tf."))
    for level in sorted(by_floor, reverse=True):
        print(f"floor {level}: {', '.join(sorted(by_floor[level]))}")
    # An arrow climbs back when a lower package imports a higher one's module: io/ from run/.
    packages = lambda m: m.split(".")[1] if m.count(".") >= 2 else "(top)"  # noqa: E731
    print("circles:", "; ".join(" <-> ".join(g) for g in loops) or "none")
    print("io/ importing run/:", ", ".join(sorted(f"{a} -> {b}" for a in graph for b in graph[a]
                                                  if packages(a) == "io"
                                                  and packages(b) == "run")) or "none")
    print(f"modules: {len(graph)}, arrows: {sum(len(t) for t in graph.values())}")


if __name__ == "__main__":
    main()
