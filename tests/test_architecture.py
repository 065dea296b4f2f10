"""The shape of the code, checked from its source: no import circles, layers that hold, and no
code outside a model's own files that names the model (the "Adding a model" contract)."""
import ast
from pathlib import Path

import pytest

from core.registry import MODELS

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "ui")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources() -> dict[str, Path]:
    return {module_name(path): path for package in PACKAGES
            for path in sorted((ROOT / package).rglob("*.py"))}


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """Every module of ours that ``path`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # "from core import runs" imports core.runs; "from core.runs import X" core.runs.
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def graph() -> dict[str, set[str]]:
    files = sources()
    modules = set(files)
    return {name: imports_of(path, modules) - {name} for name, path in files.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_import_graph_finds_a_circle_when_there_is_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles_in_core_or_ui():
    circles = cycles(graph())
    assert not circles, "import circles: " + "; ".join(" ↔ ".join(c) for c in circles)


def test_core_never_imports_streamlit_or_ui():
    for name, path in sources().items():
        if not name.startswith("core"):
            continue
        tree = ast.parse(path.read_text())
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {node.module for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module}
        breaches = {m for m in imported if m.split(".")[0] in ("streamlit", "ui")}
        assert not breaches, f"{name} imports {breaches}"


def own_files(spec) -> set[Path]:
    """A model's own files: the module its config is declared in and, when it has one, its panel."""
    files = {(ROOT / (spec.config_cls.__module__.replace(".", "/") + ".py")).resolve()}
    if spec.panel:
        files.add((ROOT / (spec.panel.partition(":")[0].replace(".", "/") + ".py")).resolve())
    return files


FAMILIES = {spec.family for spec in MODELS.values()}


@pytest.mark.parametrize("name", list(MODELS))
def test_no_code_outside_a_models_own_files_names_it(name):
    """No ``"began/..."`` metric-key sniffing and no string naming the model outside its own
    files and the registry (a family's name, such as "gan", may name the family). Its page in
    the menu comes from its spec too (``ui/navigation.py`` names no model)."""
    spec = MODELS[name]
    allowed = own_files(spec) | {(ROOT / "core" / "registry.py").resolve()}   # the one list
    offenders = []
    for module, path in sources().items():
        if path.resolve() in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                    (node.value == name and name not in FAMILIES)
                    or node.value.startswith(f"{name}/")):
                offenders.append(f"{module}:{node.lineno} {node.value!r}")
    assert not offenders, f"{name} is named outside its own files: {offenders}"


def test_no_dispatch_on_the_model_in_core_or_ui():
    """``spec.name ==`` and ``hasattr(trainer, ...)`` were how code guessed a model's kind."""
    for module, path in sources().items():
        text = path.read_text()
        assert "spec.name ==" not in text and "spec.name !=" not in text, module
        assert "hasattr(trainer" not in text and "hasattr(self.trainer" not in text, module
