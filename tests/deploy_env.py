"""deploy/env.example as systemd reads it, and the settings the code reads from the environment."""

import ast
import re
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
EXAMPLE = BASE_DIR / "deploy" / "env.example"
VARIABLE = re.compile(r"^(# )?([A-Z][A-Z0-9_]*)=(.*)$")
PACKAGES = ("config", "org", "vault", "notifications", "tipline", "casework", "ops")
# Set by the project itself, not by an operator.
NOT_SETTINGS = {"DJANGO_SETTINGS_MODULE"}


def env_example() -> dict[str, str]:
    """The active settings of deploy/env.example (one quoted value keeps its spaces)."""
    values = {}
    for line in EXAMPLE.read_text().splitlines():
        match = VARIABLE.match(line)
        if match and not match[1]:
            value = match[3]
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            values[match[2]] = value
    return values


def documented() -> dict[str, str]:
    """Every setting env.example lists (active or commented out with its default), with the
    comment line right above it: its meaning."""
    lines = EXAMPLE.read_text().splitlines()
    found = {}
    for i, line in enumerate(lines):
        match = VARIABLE.match(line)
        if match:
            above = lines[i - 1] if i else ""
            meaning = "" if VARIABLE.match(above) or not above.startswith("#") else above
            found[match[2]] = meaning.lstrip("# ").strip()
    return found


def read_by_code() -> set[str]:
    """Environment variables the code reads: env_str/env_int/env_bool/env_list("NAME"),
    os.environ.get("NAME"), os.environ["NAME"] and os.getenv("NAME"), anywhere in the apps."""
    names = set()
    files = [BASE_DIR / "manage.py"]
    for package in PACKAGES:
        files += [p for p in (BASE_DIR / package).rglob("*.py") if "migrations" not in p.parts]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            name = _read_name(node)
            if name and name not in NOT_SETTINGS:
                names.add(name)
    return names


SHELL_READ = re.compile(r"\$\{?([A-Z][A-Z0-9_]+)")


def read_by_scripts() -> set[str]:
    """Environment variables the deploy scripts read (their own variables are lower case)."""
    names = set()
    for path in (BASE_DIR / "deploy").glob("*.sh"):
        names.update(SHELL_READ.findall(path.read_text()))
    return names


def _first_string(args) -> str | None:
    if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
        return args[0].value
    return None


def _read_name(node) -> str | None:
    if isinstance(node, ast.Call):
        func = node.func
        called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if called in ("env_str", "env_int", "env_bool", "env_list", "getenv"):
            return _first_string(node.args)
        if (
            called == "get"
            and isinstance(func, ast.Attribute)
            and ast.unparse(func.value).endswith("environ")
        ):
            return _first_string(node.args)
    if (
        isinstance(node, ast.Subscript)
        and ast.unparse(node.value).endswith("environ")
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, str)
    ):
        return node.slice.value
    return None
