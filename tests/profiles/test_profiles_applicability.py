"""Applicability expressions over PICS/PIXIT names: the allowed language, and ProfileError for anything else."""

from __future__ import annotations

import pytest

from conformance.profiles import ProfileError, applies, load_profile


@pytest.fixture(scope="module")
def upper():
    return load_profile("upper")


@pytest.fixture(scope="module")
def lower_push():
    return load_profile("lower-push")


@pytest.mark.parametrize(
    ("expr", "on_upper", "on_lower_push"),
    [
        ('role == "upper"', True, False),
        ('role in ("upper", "intermediate")', True, False),
        ('role in ["lower", "intermediate"]', False, True),
        ('"pull" in lower_modes', False, True),
        ('"pull" not in lower_modes', True, False),
        ('mode == "push"', False, True),
        ("opt_change", True, True),
        ("opt_change and not embedded", False, False),
        ('role == "upper" or mode == "push"', True, True),
        ("not (embedded and opt_change)", False, False),
        ("max_payload >= 65536", True, True),
        ("1 <= poll_freq_s < 2", True, True),
        ('"LOAD_CONTROL" in signals', False, True),
        ('"METADATA_HISTORY_USAGE" in metadata_reports', True, True),
        ("vtn_id", True, False),
        ("ven_id == None", True, True),
        ("", True, True),
        ("   ", True, True),
    ],
)
def test_expression_values(upper, lower_push, expr, on_upper, on_lower_push):
    assert applies(expr, upper) is on_upper
    assert applies(expr, lower_push) is on_lower_push


def test_none_always_applies(upper):
    assert applies(None, upper) is True


def test_mapping_of_names():
    assert applies('role == "upper" and opt_change', {"role": "upper", "opt_change": True})


@pytest.mark.parametrize(
    ("expr", "detail"),
    [
        ("colour == 1", "unknown name 'colour'"),
        ('rolle == "upper"', "unknown name 'rolle'"),
        ('__import__("os")', "Call is not allowed"),
        ("role.upper", "Attribute is not allowed"),
        ("lower_modes[0]", "Subscript is not allowed"),
        ("1 + 2", "BinOp is not allowed"),
        ("-1 < 0", "only the unary operator 'not'"),
        ("role is None", "comparison Is is not allowed"),
        ("[x for x in lower_modes]", "ListComp is not allowed"),
        ("lambda: 1", "Lambda is not allowed"),
        ("role ==", "not an expression"),
        ("x = 1", "not an expression"),
        ("{'a': 1}", "Dict is not allowed"),
        ("b'x' in role", "constant b'x' is not allowed"),
    ],
)
def test_rejected_expressions(upper, expr, detail):
    with pytest.raises(ProfileError) as caught:
        applies(expr, upper)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"applicability: {expr!r}: "), message
    assert detail in message, message


def test_unknown_name_rejected_even_when_short_circuited(upper):
    with pytest.raises(ProfileError, match="unknown name 'nonsense'"):
        applies("True or nonsense", upper)


def test_type_mismatch_is_profile_error(upper):
    with pytest.raises(ProfileError, match="cannot evaluate"):
        applies('"x" in longest_poll_period_s', upper)
