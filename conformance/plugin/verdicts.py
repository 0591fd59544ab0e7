"""Map how a test phase ended (exception or none) to a verdict and a one-line reason.

``Fail`` and any ``AssertionError`` (``assert`` in a test) -> fail; ``Inconclusive`` -> inconclusive;
``NotApplicable`` -> not-applicable; a pytest skip -> inconclusive (the test was not judged); any other
exception -> error (a fault of the suite or its environment, never of the IUT). ``pytest.fail`` is an error too:
pytest raises it for its own reasons (e.g. an async test without pytest-asyncio), so test cases use ``Fail``.
"""

from __future__ import annotations

import pytest

from conformance.verdict import Verdict, VerdictSignal

REASON_LIMIT = 400


def one_line(text: str) -> str:
    """The first non-empty line of ``text``, shortened to REASON_LIMIT characters."""
    for line in str(text).splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= REASON_LIMIT else line[: REASON_LIMIT - 3] + "..."
    return ""


def judge(exc: BaseException | None) -> tuple[Verdict, str]:
    """Verdict and reason of a phase that raised ``exc`` (None: it completed)."""
    if exc is None:
        return Verdict.PASS, ""
    if isinstance(exc, BaseExceptionGroup):
        judged = [judge(sub) for sub in exc.exceptions]
        worst = Verdict.worst(v for v, _ in judged)
        return worst, next(reason for v, reason in judged if v is worst)
    if isinstance(exc, VerdictSignal):
        return exc.verdict, one_line(exc.reason) or exc.verdict.value
    if isinstance(exc, AssertionError):
        return Verdict.FAIL, one_line(str(exc)) or "assertion failed"
    if isinstance(exc, pytest.skip.Exception):
        return Verdict.INCONCLUSIVE, "skipped: " + (one_line(exc.msg) or "no reason given")
    text = one_line(str(exc))
    return Verdict.ERROR, f"{type(exc).__name__}: {text}" if text else type(exc).__name__
