"""Imports flow one way, from the top down:

    config, ops                          run the whole system
    notifications (delivery)             who hears of an event, delivery, reminders
    staff web layer                      views and URLs of casework, rewards and assessment
    casework.assessment                  考核: repeats, falsified cases, quotas, scores
    casework.rewards                     有奖: the reward machine, claims, payments, ledger
    casework (the case core)             models, steps, services, case file, audit; no money,
                                         scores or delivery: it offers hooks the apps above fill
    casework.machine                     the step machinery: imports nothing of the project
    tipline                              the public intake
    notifications outbox                 recording an event (every layer may)
    org, vault                           the foundations, each standing alone

A module may import modules of its own layer or below. Every import counts for that, including
those inside functions (a lazy import is still a dependency). Beyond that:

- no cycle among project modules at module level (a cycle hidden by moving an import into a
  function is still a cycle, hence the next rule);
- no project import inside a function, except in ``AppConfig.ready()`` (where an app registers
  into the layers below once the registry is ready), a management command's ``handle()``, and a
  package's module ``__getattr__`` (PEP 562: ``casework.rewards`` loads its services on first
  use, because the package is also the app's module and is imported before the models exist);
- no app imports another app's private names (``_locked_case``): they use public APIs.

The checks are functions of a source tree, so the tests below also run them on planted trees
and prove that each one fails where it should.
"""

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("org", "vault", "notifications", "tipline", "casework", "ops", "config")

# Lower rank = lower layer. A module may import modules of its own rank or below.
(
    FOUNDATION,
    OUTBOX,
    INTAKE,
    MACHINE,
    CORE,
    REWARDS,
    ASSESSMENT,
    WEB,
    DELIVERY,
    CONFIG,
) = range(10)
OUTBOX_MODULES = ("notifications.outbox", "notifications.models")
# The staff web layer: pages that compose panels of several apps, and what seeds every app.
WEB_MODULES = (
    "casework.views",
    "casework.urls",
    "casework.rewards.views",
    "casework.rewards.urls",
    "casework.assessment.views",
    "casework.assessment.urls",
    "casework.management.commands.seed_demo",  # demo data of every app
)
ALLOWED_IN_FUNCTIONS = ("ready", "handle")


def _within(module: str, prefixes) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def rank(module: str) -> int:
    top = module.split(".")[0]
    if top in ("org", "vault"):
        return FOUNDATION
    if top == "notifications":
        # Recording an event is a foundation; deciding who hears of it reads every layer (and
        # the app config registers those tasks, so it sits with them).
        # (the bare package counts as its __init__, which is empty)
        return OUTBOX if module == top or _within(module, OUTBOX_MODULES) else DELIVERY
    if top == "casework":
        if _within(module, WEB_MODULES):
            return WEB
        if _within(module, ("casework.assessment",)):
            return ASSESSMENT
        if _within(module, ("casework.rewards",)):
            return REWARDS
        if module == "casework.machine":
            return MACHINE
        return CORE
    # ops (health, logs, retention) runs the whole system: it sits with config at the top.
    return {"tipline": INTAKE, "ops": CONFIG, "config": CONFIG}[top]


def app_of(module: str) -> str:
    """The app a module belongs to (casework's sub-apps count as apps of their own)."""
    parts = module.split(".")
    if parts[0] == "casework" and len(parts) > 1 and parts[1] in ("rewards", "assessment"):
        return ".".join(parts[:2])
    return parts[0]


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the project module imported (a submodule when one is named)
    line: int
    function: str | None  # the enclosing function, None at module level
    names: tuple[str, ...] = ()  # the names taken from it ("from x import a, b")


class Tree:
    """The project modules of a source tree and every import between them."""

    def __init__(self, root: Path, packages=PACKAGES):
        self.root, self.packages = root, packages
        self.paths = {}
        for package in packages:
            for path in sorted((root / package).rglob("*.py")):
                if "migrations" not in path.parts:
                    self.paths[self.module_name(path)] = path
        self.imports = [i for m, p in self.paths.items() for i in self._scan(m, p)]

    def module_name(self, path: Path) -> str:
        parts = path.relative_to(self.root).with_suffix("").parts
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

    def _scan(self, module: str, path: Path):
        tree = ast.parse(path.read_text(), filename=str(path))
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        yield from self._visit(module, package, tree.body, None)

    def _visit(self, module, package, nodes, function):
        for node in nodes:
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                continue  # annotations only: nothing is imported when the code runs
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                yield from self._visit(module, package, node.body, node.name)
                continue
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in self.packages:
                        yield Import(module, alias.name, node.lineno, function)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - (node.level - 1)]
                    name = ".".join([*base, node.module] if node.module else base)
                else:
                    name = node.module or ""
                if name.split(".")[0] not in self.packages:
                    continue
                # "from casework import services" imports casework.services; "from
                # casework.services import take_step" imports casework.services.
                plain = []
                for alias in node.names:
                    sub = f"{name}.{alias.name}"
                    if sub in self.paths:
                        yield Import(module, sub, node.lineno, function)
                    else:
                        plain.append(alias.name)
                if plain or name not in self.paths:
                    yield Import(module, name, node.lineno, function, tuple(plain))
            else:
                yield from self._visit(module, package, ast.iter_child_nodes(node), function)

    def edges(self):
        return {(i.source, i.target) for i in self.imports}

    def cycles(self) -> list[list[str]]:
        """Strongly connected groups of modules importing each other at module level."""
        graph = {m: set() for m in self.paths}
        for i in self.imports:
            if i.function is None and i.target in self.paths and i.target != i.source:
                graph[i.source].add(i.target)
        return _strongly_connected(graph)

    def hidden(self) -> list[Import]:
        """Project imports inside functions other than those allowed there."""
        return [
            i
            for i in self.imports
            if i.function is not None
            and i.function not in ALLOWED_IN_FUNCTIONS
            and not (i.function == "__getattr__" and self.paths[i.source].name == "__init__.py")
        ]


def _is_type_checking(test) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; groups of two or more modules (or one importing itself)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for start in sorted(graph):
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
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1 or node in graph[node]:
                        found.append(sorted(group))
    return found


def climbing(tree: Tree) -> list[str]:
    return sorted(f"{s} imports {t}" for s, t in tree.edges() if rank(t) > rank(s))


def private_across_apps(tree: Tree) -> list[str]:
    return sorted(
        f"{i.source}:{i.line} takes {name} from {i.target}"
        for i in tree.imports
        for name in i.names
        if name.startswith("_")
        and not name.startswith("__")
        and app_of(i.source) != app_of(i.target)
    )


@pytest.fixture(scope="module")
def tree():
    return Tree(ROOT)


def edges():
    return Tree(ROOT).edges()


def test_the_scan_sees_the_imports_it_judges(tree):
    """Guard against a scan that finds nothing (and so passes whatever the code does)."""
    found = tree.edges()
    assert ("casework.services", "tipline.services") in found
    assert ("tipline.services", "org.deadlines") in found
    assert ("tipline.services", "vault.crypto") in found
    assert ("vault.models", "vault.crypto") in found
    assert ("casework.rewards.steps", "casework.machine") in found
    assert ("casework.rewards.apps", "casework.rewards.case_hooks") in found  # in ready()
    assert len(found) > 100


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("tipline.views", "casework.models"),
        ("org.scope", "tipline.models"),
        ("casework.machine", "casework.steps"),
        ("casework.steps", "casework.rewards.models"),
        ("casework.audit_display", "casework.rewards.models"),
        ("casework.services", "notifications.delivery"),
        ("casework.rewards.services", "casework.assessment.models"),
        ("casework.assessment.services", "casework.views.common"),
        ("casework.rewards.pages", "casework.views.cases"),
        ("casework.views.cases", "notifications.catalogue"),
        ("notifications.outbox", "casework.models"),
    ],
)
def test_a_climbing_import_is_caught(source, target):
    assert rank(target) > rank(source)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("casework.rewards.case_hooks", "casework.hooks"),
        ("casework.assessment.services", "casework.services"),
        ("casework.views.cases", "casework.rewards.pages"),
        ("notifications.audit_words", "casework.audit_display"),
        ("casework.services", "notifications.outbox"),
    ],
)
def test_an_import_downwards_is_allowed(source, target):
    assert rank(target) <= rank(source)


def test_no_module_imports_a_layer_above_it(tree):
    bad = climbing(tree)
    assert not bad, "imports that climb a layer:\n" + "\n".join(bad)


def test_the_public_intake_never_imports_casework(tree):
    bad = sorted(
        f"{s} imports {t}" for s, t in tree.edges() if s.startswith("tipline") and "casework" in t
    )
    assert not bad, "\n".join(bad)


def test_the_two_foundations_stand_alone(tree):
    bad = sorted(
        f"{s} imports {t}"
        for s, t in tree.edges()
        if s.split(".")[0] in ("org", "vault") and t.split(".")[0] not in (s.split(".")[0],)
    )
    assert not bad, "\n".join(bad)


def test_the_step_machinery_imports_nothing_of_the_project(tree):
    assert "casework.machine" in tree.paths
    bad = sorted(t for s, t in tree.edges() if s == "casework.machine")
    assert not bad, "\n".join(bad)


def test_casework_records_into_the_outbox_and_reads_nothing_else_of_notifications(tree):
    """The audit page names notices through a registry notifications fills, for example."""
    bad = sorted(
        f"{s} imports {t}"
        for s, t in tree.edges()
        if s.startswith("casework") and t.startswith("notifications")
        if not _within(t, ("notifications.outbox",))
    )
    assert not bad, "\n".join(bad)


def test_the_case_pages_compose_the_other_apps_through_registered_panels(tree):
    """casework's own views import the core only; rewards and assessment add their panels
    through casework.panels from their ready()."""
    bad = sorted(
        f"{s} imports {t}"
        for s, t in tree.edges()
        if _within(s, ("casework.views",))
        and _within(t, ("casework.rewards", "casework.assessment"))
    )
    assert not bad, "\n".join(bad)


def test_no_import_cycle_at_module_level(tree):
    found = tree.cycles()
    assert not found, "modules importing each other:\n" + "\n".join(map(" ↔ ".join, found))


def test_no_project_import_inside_a_function(tree):
    bad = [f"{i.source}:{i.line} ({i.function}) imports {i.target}" for i in tree.hidden()]
    assert not bad, "project imports inside functions (lift them):\n" + "\n".join(bad)


def test_no_app_takes_another_apps_private_names(tree):
    bad = private_across_apps(tree)
    assert not bad, "\n".join(bad)


# --- the checks fail where they should: planted trees --------------------------------------


def plant(root: Path, files: dict[str, str]) -> Tree:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    return Tree(root)


CLEAN = {
    "casework/__init__.py": "",
    "casework/machine.py": "import dataclasses\n",
    "casework/steps.py": "from .machine import Step\n",
    "casework/models/__init__.py": "from .case import Case\n",
    "casework/models/case.py": "from .. import steps\nfrom . import documents\n",
    "casework/models/documents.py": "from tipline.models import Category\n",
    "tipline/__init__.py": "",
    "tipline/models.py": "",
}


def test_a_clean_planted_tree_passes(tmp_path):
    tree = plant(tmp_path, CLEAN)
    assert ("casework.models.case", "casework.steps") in tree.edges()
    assert tree.cycles() == []
    assert tree.hidden() == []
    assert climbing(tree) == []


def test_a_planted_cycle_is_caught(tmp_path):
    tree = plant(
        tmp_path,
        {
            **CLEAN,
            # the cycle the case core had: the steps reaching the case file, which needs models
            "casework/steps.py": "from .machine import Step\nfrom . import casefile\n",
            "casework/casefile.py": "from .models import Case\n",
        },
    )
    assert tree.cycles() == [
        ["casework.casefile", "casework.models", "casework.models.case", "casework.steps"]
    ]


def test_a_cycle_through_a_function_level_import_is_still_caught(tmp_path):
    tree = plant(
        tmp_path,
        {
            **CLEAN,
            "casework/steps.py": """\
                from .machine import Step


                def file_complete(case):
                    from .casefile import missing_documents

                    return not missing_documents(case)
            """,
            "casework/casefile.py": "from .models import Case\n",
        },
    )
    assert [(i.source, i.target, i.function) for i in tree.hidden()] == [
        ("casework.steps", "casework.casefile", "file_complete")
    ]


def test_a_planted_function_level_import_is_caught_outside_ready_and_handle(tmp_path):
    tree = plant(
        tmp_path,
        {
            **CLEAN,
            "casework/apps.py": """\
                class Config:
                    def ready(self):
                        from . import steps  # allowed: registering once apps are loaded
            """,
            "casework/management/commands/run.py": """\
                class Command:
                    def handle(self, *args, **options):
                        from casework import steps  # allowed
            """,
            "casework/rewards/__init__.py": """\
                def __getattr__(name):
                    from . import services  # allowed: the package's lazy attributes

                    return getattr(services, name)
            """,
            "casework/rewards/services.py": "",
            "casework/audit_display.py": """\
                import uuid


                class Names:
                    def rewards(self, ids):
                        from .rewards.services import load  # hidden: caught

                        return load(ids)


                def label(value):
                    import tipline.models  # hidden: caught

                    return value
            """,
        },
    )
    assert sorted((i.source, i.target, i.function) for i in tree.hidden()) == [
        ("casework.audit_display", "casework.rewards.services", "rewards"),
        ("casework.audit_display", "tipline.models", "label"),
    ]
    # and it climbs from the core into rewards, which the layer check reports too
    assert climbing(tree) == ["casework.audit_display imports casework.rewards.services"]


def test_a_private_name_taken_across_apps_is_caught(tmp_path):
    tree = plant(
        tmp_path,
        {
            **CLEAN,
            "casework/services.py": "def _locked_case():\n    pass\n",
            "casework/assessment/__init__.py": "",
            "casework/assessment/services.py": "from ..services import _locked_case\n",
            "casework/assessment/report.py": "from .services import _helper\n",  # same app
        },
    )
    assert private_across_apps(tree) == [
        "casework.assessment.services:1 takes _locked_case from casework.services"
    ]
