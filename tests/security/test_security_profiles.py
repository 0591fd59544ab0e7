"""The bundled OSCORE profiles (test keys, contexts provisioned per run) and TC-S-8-11's verdict from the PIXIT
statement ``nosec_isolated`` (EMAP-8-11)."""

from __future__ import annotations

import pytest

from conformance.plugin.embedded import security_options
from conformance.profiles import load_profile
from conformance.profiles.loader import profile_from_data, with_pixit
from conformance.security import LinkSecurity
from conformance.testcases.security.test_8_nosec import test_nosec_restricted as nosec_case
from conformance.verdict import Fail, Inconclusive


@pytest.mark.parametrize("name", ["oscore-upper", "oscore-lower-push"])
def test_bundled_oscore_profiles_provision_marked_test_keys(name):
    profile = load_profile(name)
    link = LinkSecurity.parse(profile.credentials)
    assert link.oscore and link.oscore_context is None  # provisioned by the run, never a repository path
    assert profile.cases == ("TC-S-8-*",)
    text = profile.path.read_text("utf-8")
    assert "TEST KEYS" in text and "never" in text.lower()
    options = security_options(profile)
    assert options[0] == "--oscore" and all(not o.startswith(str(profile.path.parent)) for o in options)


@pytest.mark.parametrize("name", ["upper", "lower-pull", "lower-push", "intermediate"])
async def test_bundled_nosec_profiles_pass_tc_s_8_11(name):
    await nosec_case(load_profile(name))


async def test_tc_s_8_11_verdict_follows_the_statement():
    profile = load_profile("upper")
    with pytest.raises(Fail, match="EMAP-8-11"):
        await nosec_case(with_pixit(profile, nosec_isolated=False))
    pixit = {key: value for key, value in profile.data["pixit"].items() if key != "nosec_isolated"}
    with pytest.raises(Inconclusive, match="nosec_isolated not stated"):
        await nosec_case(profile_from_data({**profile.data, "pixit": pixit}, "unstated"))
