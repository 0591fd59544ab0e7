"""Applicability expressions: a tiny, safe language over PICS/PIXIT names.

Examples: ``role == "upper"``, ``role in ("upper", "intermediate")``, ``"pull" in lower_modes``,
``opt_change and not embedded``. Allowed: names, constants, tuples/lists, comparisons (``== != < <= > >= in not in``),
``and``/``or``/``not``. Anything else, and any unknown name, is a ProfileError.
"""

from __future__ import annotations

import ast
import functools
import operator
from collections.abc import Mapping
from typing import Any

from .model import PICS_DEFAULTS, PIXIT_DEFAULTS, Profile, ProfileError

KNOWN_NAMES = frozenset({"role", "iut", "embedded", *PICS_DEFAULTS, *PIXIT_DEFAULTS})
_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_SOURCE = "applicability"


@functools.lru_cache(maxsize=512)
def compile_expression(expr: str) -> ast.expr:
    """Parse and check an expression once; raises ProfileError for syntax outside the language."""
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise ProfileError(_SOURCE, repr(expr), f"not an expression ({exc.msg})") from None
    for node in ast.walk(tree.body):
        if isinstance(node, ast.Name):
            if node.id not in KNOWN_NAMES:
                known = ", ".join(sorted(KNOWN_NAMES))
                raise ProfileError(_SOURCE, repr(expr), f"unknown name {node.id!r} (known: {known})")
        elif isinstance(node, ast.Compare):
            bad = [type(op).__name__ for op in node.ops if type(op) not in _COMPARE]
            if bad:
                raise ProfileError(_SOURCE, repr(expr), f"comparison {bad[0]} is not allowed")
        elif isinstance(node, ast.BoolOp | ast.Tuple | ast.List | ast.Load | ast.And | ast.Or | ast.Not):
            continue
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.Not):
                raise ProfileError(_SOURCE, repr(expr), "only the unary operator 'not' is allowed")
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, str | int | float | bool | type(None)):
                raise ProfileError(_SOURCE, repr(expr), f"constant {node.value!r} is not allowed")
        elif not isinstance(node, ast.cmpop):
            raise ProfileError(_SOURCE, repr(expr), f"{type(node).__name__} is not allowed")
    return tree.body


def applies(expr: str | None, profile: Profile | Mapping[str, Any]) -> bool:
    """Evaluate ``expr`` against a Profile (or a mapping of names); an empty expression always applies."""
    if expr is None or not expr.strip():
        return True
    node = compile_expression(expr)
    names = profile.names() if isinstance(profile, Profile) else dict(profile)
    try:
        return bool(_eval(node, names))
    except TypeError as exc:
        raise ProfileError(_SOURCE, repr(expr), f"cannot evaluate: {exc}") from None
    except KeyError as exc:
        raise ProfileError(_SOURCE, repr(expr), f"name {exc.args[0]!r} has no value here") from None


def _eval(node: ast.expr, names: Mapping[str, Any]) -> Any:
    match node:
        case ast.Constant(value=value):
            return value
        case ast.Name(id=name):
            return names[name]
        case ast.Tuple(elts=elts) | ast.List(elts=elts):
            return tuple(_eval(e, names) for e in elts)
        case ast.UnaryOp(operand=operand):
            return not _eval(operand, names)
        case ast.BoolOp(op=ast.And(), values=values):
            return all(_eval(v, names) for v in values)
        case ast.BoolOp(values=values):
            return any(_eval(v, names) for v in values)
        case ast.Compare(left=left, ops=ops, comparators=comparators):
            current = _eval(left, names)
            for op, right_node in zip(ops, comparators, strict=True):
                right = _eval(right_node, names)
                if not _COMPARE[type(op)](current, right):
                    return False
                current = right
            return True
    raise AssertionError(f"unchecked node {type(node).__name__}")  # compile_expression admits no other node
