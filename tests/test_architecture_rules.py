"""Architecture rules checked on the source itself: no import circles, no unexplained long modules,
thin CLI handlers, no CLI flags in library errors.

The rules read ``src/modelworks`` with :mod:`ast` (nothing is imported), so they hold for the code
as written, including imports inside functions and relative imports.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "modelworks"
MAX_LINES = 500
REASON = "# Long module:"
REASON_WITHIN = 15

# Import circles in areas other helpers are splitting right now (issue #18). Each entry is the
# sorted set of modules on one circle. The lead empties this list once those branches are merged;
# a circle not listed here fails the test, and so does a listed one that no longer exists.
KNOWN_CYCLES: list[frozenset[str]] = []


# Long modules other helpers are splitting right now (issue #18); the lead empties this too.
KNOWN_LONG: dict[str, str] = {}

def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base.pop()
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _nearest(name: str, modules: dict[str, Path]) -> str | None:
    """The module ``name`` lives in: itself, or the closest enclosing package we have."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _reexports(modules: dict[str, Path]) -> dict[str, dict[str, str]]:
    """Package -> {name: the module it re-exports that name from} (its ``__init__``'s top level)."""
    out: dict[str, dict[str, str]] = {}
    for module, path in modules.items():
        if path.name != "__init__.py":
            continue
        names: dict[str, str] = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom):
                base = _resolve(node, module, True)
                for alias in node.names:
                    names[alias.asname or alias.name] = base
        out[module] = names
    return out


def _target(base: str, name: str | None, modules: dict[str, Path], reexports: dict[str, dict[str, str]]) -> str:
    """The module that ``from base import name`` (or ``import base``) really reaches."""
    seen = set()
    while name is not None and (base, name) not in seen:
        seen.add((base, name))
        if f"{base}.{name}" in modules:  # ``from pkg import submodule``
            return f"{base}.{name}"
        source = reexports.get(base, {}).get(name)
        if source is None or source == base:
            break
        base = source  # a name the package re-exports: the edge goes to where it is defined
    return base


def import_graph() -> dict[str, set[str]]:
    """Module -> the modelworks modules it imports anywhere in its body (functions included).

    ``from pkg import name`` counts as an import of the submodule that defines ``name`` when the
    package only re-exports it, so a package's ``__init__`` is not a false bridge between areas.
    """
    modules = _modules()
    reexports = _reexports(modules)
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets: set[str] = set()
        is_package = path.name == "__init__.py"
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(node, module, is_package)
                names = [_target(base, a.name, modules, reexports) for a in node.names]
            else:
                continue
            for name in names:
                if name.split(".")[0] != "modelworks":
                    continue
                target = _nearest(name, modules)
                if target and target != module:
                    targets.add(target)
        graph[module] = targets
    return graph


def _runtime_nodes(tree: ast.AST):
    """Every node, except what sits under ``if TYPE_CHECKING:`` (never imported at run time)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = [0]

    def visit(root: str) -> None:
        # iterative Tarjan: (node, iterator over its successors)
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for nxt in successors:
                if nxt not in graph:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
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
                if len(component) > 1:
                    components.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return components


def _path_through(component: list[str], graph: dict[str, set[str]]) -> list[str]:
    """One concrete circle inside a component, for the failure message: a -> b -> ... -> a."""
    members = set(component)
    start = component[0]
    parents = {start: None}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph[node] & members):
            if nxt == start:
                path = [node]
                while parents[path[-1]] is not None:
                    path.append(parents[path[-1]])
                return [*reversed(path), start]
            if nxt not in parents:
                parents[nxt] = node
                queue.append(nxt)
    return component


def test_the_graph_sees_function_level_and_relative_imports():
    graph = import_graph()
    # tune imports its result module inside the function body
    assert "modelworks.tuning._result" in graph["modelworks.tuning._engine"]
    assert "modelworks.exceptions" in graph["modelworks.tuning._engine"]
    # the rule itself would catch a circle
    assert find_cycles({"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}}) == [["a.x", "a.y", "a.z"]]
    assert find_cycles({"a.x": {"a.y"}, "a.y": set()}) == []


def test_no_import_cycles():
    graph = import_graph()
    cycles = find_cycles(graph)
    known = set(KNOWN_CYCLES)
    unexpected = [c for c in cycles if frozenset(c) not in known]
    messages = [" -> ".join(_path_through(c, graph)) for c in unexpected]
    assert not messages, "import cycles between modules (break them: move the shared part down):\n" + "\n".join(
        messages
    )
    stale = known - {frozenset(c) for c in cycles}
    assert not stale, f"KNOWN_CYCLES lists circles that are gone; remove them: {sorted(map(sorted, stale))}"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_long_modules_state_why(path: Path):
    lines = path.read_text(encoding="utf-8").splitlines()
    if len(lines) <= MAX_LINES:
        return
    rel = path.relative_to(SRC).as_posix()
    if rel in KNOWN_LONG:
        pytest.skip(f"{rel} is being split on the {KNOWN_LONG[rel]}")
    head = lines[:REASON_WITHIN]
    assert any(line.startswith(REASON) for line in head), (
        f"{path.relative_to(SRC)} has {len(lines)} lines (> {MAX_LINES}): split it along its seams, or, "
        f"where a split would hurt reading, state why in a line starting {REASON!r} in its first "
        f"{REASON_WITHIN} lines"
    )


# Library errors name Python parameters (the hint's param= and fix=); only the CLI speaks of flags.
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]+")
# areas whose messages still quote flags (none left)
KNOWN_FLAG_MESSAGES: tuple[str, ...] = ()


def _raise_texts(tree: ast.AST):
    """(line, text) of every string constant inside a ``raise`` statement (f-string parts included)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            for inner in ast.walk(node.exc):
                if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
                    yield node.lineno, inner.value


def test_library_errors_do_not_quote_cli_flags():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith("modelworks/cli/") or rel.startswith(KNOWN_FLAG_MESSAGES):
            continue
        for line, text in _raise_texts(ast.parse(path.read_text(encoding="utf-8"))):
            if FLAG.search(text):
                found.append(f"{rel}:{line}: {text!r}")
    assert not found, ("library errors that quote a CLI flag; name the parameter with param= and fix= "
                       "(the CLI renders it as the flag):\n" + "\n".join(found))
    # the rule would catch one
    sample = ast.parse('raise ConfigError("pick another --study NAME")')
    assert any(FLAG.search(text) for _, text in _raise_texts(sample))


# A CLI handler (the function a subcommand dispatches to with set_defaults(handler=...)) only parses
# its arguments, calls the verb's function and hands the result to the one finisher.
CLI_DIR = PACKAGE / "cli"
MAX_HANDLER_LINES = 40
FINISHER = "finish"


def _handlers_in(tree: ast.AST):
    """(name, lines, calls the finisher) of every handler ``tree`` registers; a lambda is one line."""
    defs = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    for call in ast.walk(tree):
        if not (isinstance(call, ast.Call) and getattr(call.func, "attr", None) == "set_defaults"):
            continue
        for kw in call.keywords:
            if kw.arg != "handler":
                continue
            node = defs[kw.value.id] if isinstance(kw.value, ast.Name) else kw.value
            calls = {getattr(c.func, "id", getattr(c.func, "attr", None)) for c in ast.walk(node) if isinstance(c, ast.Call)}
            yield getattr(node, "name", ast.unparse(node)), node.end_lineno - node.lineno + 1, FINISHER in calls


def _handler_problems(handlers) -> list[str]:
    problems = [f"{name}: {n} lines (> {MAX_HANDLER_LINES}; move the logic into the verb's function)"
                for name, n, _ in handlers if n > MAX_HANDLER_LINES]
    # a handler that is not a command group's `print_help` hands a result to cli._common.finish
    return problems + [f"{name}: prints for itself (return a Result and hand it to {FINISHER})"
                       for name, _, finishes in handlers if not finishes and "print_help" not in name]


def test_every_cli_handler_is_at_most_40_lines_and_ends_in_the_finisher():
    handlers = [(f"{path.name}:{name}", n, finishes) for path in sorted(CLI_DIR.glob("*.py"))
                for name, n, finishes in _handlers_in(ast.parse(path.read_text(encoding="utf-8")))]
    assert len(handlers) >= 20  # every verb is found, not just a few
    problems = _handler_problems(handlers)
    assert not problems, "CLI handlers that break the rule:\n" + "\n".join(problems)
    # the rule would catch both
    body = "".join(f"    x{i} = {i}\n" for i in range(40))
    sample = ast.parse(f"def _long(args):\n{body}    return finish(args, x0)\n"
                       "def _prints(args):\n    print(args)\n    return 0\n"
                       "p.set_defaults(handler=_long)\nq.set_defaults(handler=_prints)\n")
    assert [p.split(":")[0] for p in _handler_problems(list(_handlers_in(sample)))] == ["_long", "_prints"]
