"""The code's shape: no import cycles between modules, and what is shared lives once in common/."""

import ast
import re

from tests.support import PROJECT_ROOT

PACKAGES = ("common", "gateway", "lab_service", "pharmacy_service", "billing_service")


def _modules() -> dict:
    found = {}
    for package in PACKAGES:
        for path in (PROJECT_ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


def _import_graph(modules: dict) -> dict:
    """Module -> the project modules it imports (anywhere in it, also inside functions)."""
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from a.b import c` imports the module a.b.c when there is one, else a name of a.b
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                           for a in node.names]
            else:
                continue
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def _cycles(graph: dict) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_through_others():
    assert _cycles(_import_graph(_modules())) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_hospital_time_zone_is_named_once():
    zone = re.compile(r"ZoneInfo\(\s*[\"']Asia/Ho_Chi_Minh")
    naming = [str(path.relative_to(PROJECT_ROOT)) for path in _modules().values() if zone.search(path.read_text())]
    assert naming == ["common/clock.py"]


def test_role_groups_are_defined_once():
    group = re.compile(r"^\w*READERS\s*=\s*\(", re.M)
    assert [name for name, path in _modules().items() if group.search(path.read_text())] == []
