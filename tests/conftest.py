"""Fixtures shared by every area of the project's tests: external tools (libcoap, tshark) with bounded runs."""

from __future__ import annotations

import asyncio
import os
import shutil

import pytest
import pytest_asyncio


def _require_tool(name: str) -> str:
    """Path of an external tool; skips the test when missing, except under CI (env CI set) where it fails."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is required under CI but is not installed")
        pytest.skip(f"{name} is not installed")
    return path


@pytest_asyncio.fixture
async def require_tool():
    return _require_tool


async def run_tool(*argv: str, timeout: float = 10.0) -> tuple[int, str, str]:
    """Run a program with a bounded wait; returns (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    try:
        async with asyncio.timeout(timeout):
            out, err = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


@pytest_asyncio.fixture
async def tool_runner():
    return run_tool
