"""Imports flow one way: casework → tipline (public intake) → foundations (org, vault, the
notifications outbox). Nothing below imports anything above; the two foundations stand alone.

Every import counts, including those inside functions (a lazy import is still a dependency).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("org", "vault", "notifications", "tipline", "casework", "ops", "config")

# Lower rank = lower layer. A module may import modules of its own rank or below.
FOUNDATION, OUTBOX, INTAKE, CASEWORK, DELIVERY, CONFIG = range(6)
OUTBOX_MODULES = ("notifications.outbox", "notifications.models")


def rank(module: str) -> int:
    top = module.split(".")[0]
    if top in ("org", "vault"):
        return FOUNDATION
    if top == "notifications":
        # Recording an event is a foundation; deciding who hears of it reads every layer (and
        # the app config registers those tasks, so it sits with them).
        # (the bare package counts as its __init__, which is empty)
        return OUTBOX if module == top or module.startswith(OUTBOX_MODULES) else DELIVERY
    # ops (health, logs, retention) runs the whole system: it sits with config at the top.
    return {"tipline": INTAKE, "casework": CASEWORK, "ops": CONFIG, "config": CONFIG}[top]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Project modules imported anywhere in the file, relative imports resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            # "from casework import services" imports casework.services
            names = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] in PACKAGES:
                found.add(name)
    return found


def project_files():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def edges():
    for path in project_files():
        source = module_name(path)
        for target in imports_of(path):
            yield source, target


def test_the_scan_sees_the_imports_it_judges():
    """Guard against a scan that finds nothing (and so passes whatever the code does)."""
    found = set(edges())
    assert ("casework.services", "tipline.services") in found
    assert ("tipline.services", "org.deadlines") in found
    assert ("tipline.services", "vault.crypto") in found
    assert ("vault.models", "vault.crypto") in found
    assert len(found) > 100


@pytest.mark.parametrize(
    ("source", "target"), [("tipline.views", "casework.models"), ("org.scope", "tipline.models")]
)
def test_a_climbing_import_is_caught(source, target):
    assert rank(target) > rank(source)


def test_no_module_imports_a_layer_above_it():
    climbing = sorted(
        f"{source} imports {target}" for source, target in edges() if rank(target) > rank(source)
    )
    assert not climbing, "imports that climb a layer:\n" + "\n".join(climbing)


def test_the_public_intake_never_imports_casework():
    bad = sorted(
        f"{s} imports {t}" for s, t in edges() if s.startswith("tipline") and "casework" in t
    )
    assert not bad, "\n".join(bad)


def test_the_two_foundations_stand_alone():
    bad = sorted(
        f"{s} imports {t}"
        for s, t in edges()
        if s.split(".")[0] in ("org", "vault") and t.split(".")[0] not in (s.split(".")[0],)
    )
    assert not bad, "\n".join(bad)
