"""The layer conventions of issue 11, checked by reading the source (ast), so a new breach fails CI.

Each check has an allow-list of today's offenders (issue 11: to move to the edge). A list may shrink;
a new offender, or one more of an allowed kind in the same function, fails.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (file, function): how many commit() calls it may still make.
# issue 11: to move to the edge (one commit point per request and per job, none in services).
ALLOWED_SERVICE_COMMITS = Counter(
    {
        ("casework/services/exports.py", "dispatch"): 2,
        ("casework/services/exports.py", "run_export"): 3,
        ("casework/services/exports.py", "progress"): 1,  # nested in run_export
        ("casework/services/demo.py", "seed_everything"): 1,
        # Key rotation commits one batch at a time so a running service is never blocked long;
        # the start-up check records a new key id. Both are command-line work: to move to cli.py.
        ("casework/services/encryption_keys.py", "check_at_start"): 1,
        ("casework/services/encryption_keys.py", "rotate"): 2,
    }
)

# (file, attribute): private attributes set on (model) objects outside casework/models.
# issue 11: to move to the edge (typed views instead of need-to-know on ORM instances).
ALLOWED_PRIVATE_ASSIGNMENTS = Counter(
    {
        ("casework/services/referrals.py", "_side"): 1,
        ("casework/services/referrals.py", "_police_case"): 1,
        ("casework/services/victims.py", "_identity_released"): 1,
    }
)

# (file, member): Role.X outside policies.py, the models, the CLI, seed/ and tests.
# issue 11: to move to the edge (role literals only in casework/policies.py).
ALLOWED_ROLE_USES = Counter(
    {
        ("casework/services/cases.py", "CASEWORKER"): 2,
        ("casework/services/cases.py", "INVESTIGATOR"): 2,
        ("casework/services/cases.py", "SUPERVISOR"): 1,
        ("casework/services/demo.py", "ADMIN"): 1,
        ("casework/services/demo.py", "ANALYST"): 1,
        ("casework/services/demo.py", "CASEWORKER"): 1,
        ("casework/services/demo.py", "INVESTIGATOR"): 1,
        ("casework/services/demo.py", "LIAISON"): 1,
        ("casework/services/demo.py", "PLATFORM_ADMIN"): 1,
        ("casework/services/demo.py", "SUPERVISOR"): 1,
        ("casework/services/notifications.py", "LIAISON"): 1,
        ("casework/services/notifications.py", "SUPERVISOR"): 1,
        ("casework/services/statistics.py", "ANALYST"): 1,
        ("casework/services/users.py", "PLATFORM_ADMIN"): 1,
    }
)

ROLE_HOMES = ("casework/policies.py", "casework/models/", "casework/cli.py", "seed/", "tests/")


def _sources(*folders: str) -> Iterator[tuple[str, ast.Module]]:
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(), filename=str(path))


def _functions(tree: ast.AST, outer: str = "<module>") -> Iterator[tuple[str, ast.AST]]:
    """Every node with the name of its innermost enclosing (top-level or nested) function."""
    for child in ast.iter_child_nodes(tree):
        name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else outer
        yield name, child
        yield from _functions(child, name)


def service_commits(sources: Iterator[tuple[str, ast.Module]]) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for path, tree in sources:
        for function, node in _functions(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit":
                found[(path, function)] += 1
    return found


def private_assignments(sources: Iterator[tuple[str, ast.Module]]) -> Counter[tuple[str, str]]:
    """`obj._x = ...` (any assignment form) and `setattr(obj, "_x", ...)`; an object's own `self._x`
    and dunders are not need-to-know smuggled on someone else's object."""
    found: Counter[tuple[str, str]] = Counter()
    for path, tree in sources:
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                    names.append(node.attr)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr":
                if (
                    len(node.args) >= 2
                    and isinstance(node.args[1], ast.Constant)
                    and isinstance(node.args[1].value, str)
                ):
                    names.append(node.args[1].value)
            for name in names:
                if name.startswith("_") and not name.startswith("__"):
                    found[(path, name)] += 1
    return found


def role_uses(sources: Iterator[tuple[str, ast.Module]]) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for path, tree in sources:
        if path.startswith(ROLE_HOMES):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Role":
                found[(path, node.attr)] += 1
    return found


def _new(found: Counter[tuple[str, str]], allowed: Counter[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """What exceeds the allow-list, with how many too many."""
    return dict(found - allowed)


def test_no_new_commit_in_services():
    assert _new(service_commits(_sources("casework/services")), ALLOWED_SERVICE_COMMITS) == {}


def test_no_new_private_attribute_set_outside_the_models():
    sources = (item for item in _sources("casework", "reports", "seed") if not item[0].startswith("casework/models/"))
    assert _new(private_assignments(sources), ALLOWED_PRIVATE_ASSIGNMENTS) == {}


def test_no_new_role_name_outside_policies():
    assert _new(role_uses(_sources("casework", "reports", "seed")), ALLOWED_ROLE_USES) == {}


def _parse(path: str, code: str) -> Iterator[tuple[str, ast.Module]]:
    yield path, ast.parse(code)


def test_the_checks_see_a_new_offender():
    """Each check fails on one more offender (so an allow-list cannot hide a check that sees nothing)."""
    commit = "def close(case):\n    db.session.commit()\n"
    assert _new(service_commits(_parse("casework/services/cases.py", commit)), ALLOWED_SERVICE_COMMITS) == {
        ("casework/services/cases.py", "close"): 1
    }
    in_exports = "def run_export(e):\n" + "    db.session.commit()\n" * 4
    assert _new(service_commits(_parse("casework/services/exports.py", in_exports)), ALLOWED_SERVICE_COMMITS) == {
        ("casework/services/exports.py", "run_export"): 1
    }

    private = "def f(case, s):\n    case._seen = 1\n    setattr(case, '_side', 2)\n    s._side = 3\n    self._own = 4\n"
    assert _new(private_assignments(_parse("casework/services/cases.py", private)), ALLOWED_PRIVATE_ASSIGNMENTS) == {
        ("casework/services/cases.py", "_seen"): 1,
        ("casework/services/cases.py", "_side"): 2,
    }

    role = "def f(user):\n    return user.role == Role.ANALYST\n"
    assert _new(role_uses(_parse("casework/api/cases.py", role)), ALLOWED_ROLE_USES) == {
        ("casework/api/cases.py", "ANALYST"): 1
    }
    assert _new(role_uses(_parse("casework/policies.py", role)), ALLOWED_ROLE_USES) == {}
