"""`--transport-address`: the emapTransportAddress a push-mode sample lower EMA announces (EMAP-7.1.3-06)."""

from __future__ import annotations

import pytest

from conformance.ema.config import ConfigError
from conformance.ema.main import config_from_args

LOWER = ["--role", "lower", "--mode", "push", "--upper", "coap://127.0.0.1:5683/emap"]


def test_transport_address_is_kept():
    config = config_from_args([*LOWER, "--transport-address", "coap://192.0.2.9:5700/emapl"])
    assert config.transport_address == "coap://192.0.2.9:5700/emapl"


def test_default_is_none():
    assert config_from_args(LOWER).transport_address is None


@pytest.mark.parametrize("uri", ["coap://192.0.2.9/emapl?x=1", "coap://192.0.2.9/emapl/", "http://192.0.2.9/e"])
def test_not_a_base_uri_is_refused(uri):
    with pytest.raises(ConfigError, match="--transport-address"):
        config_from_args([*LOWER, "--transport-address", uri])
