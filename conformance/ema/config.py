"""Configuration of the sample EMA (both roles read it): identities, endpoints, timings, limits.

Defaults are the binding's values (0.5 timing parameters, EMAP-7.1.1-05 payload limit, EMAP-7.1.3-01 base
path)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from conformance.security.credentials import PskTable
from conformance.transport.params import TransmissionParams

DEFAULT_PORT = 5683
DEFAULT_PORTS = {"coap": 5683, "coaps": 5684}  # EMAP-7.1.1-01, Table 8-1
DEFAULT_BIND = "coap://127.0.0.1:5683/emap"
DEFAULT_LOWER_PATH = ("emapl",)
DEFAULT_CONTROL = "coap://127.0.0.1:0"
DEFAULT_METADATA_REPORTS = ("METADATA_TELEMETRY_STATUS", "METADATA_TELEMETRY_USAGE", "METADATA_HISTORY_USAGE")


class ConfigError(ValueError):
    """A bad option value; ``str()`` is one line naming the option."""


@dataclass(frozen=True)
class Endpoint:
    """A CoAP endpoint plus a base path (EMAP-7.1.3-01); scheme ``coaps`` = DTLS-PSK (clause 8)."""

    host: str
    port: int
    path: tuple[str, ...] = ()
    scheme: str = "coap"

    @classmethod
    def parse(cls, uri: str, option: str, *, need_path: bool) -> Endpoint:
        """Parse ``coap[s]://host[:port][/base/path]``; raises ConfigError naming ``option``."""
        try:
            parts = urlsplit(uri)
            port = parts.port
        except ValueError as exc:
            raise ConfigError(f"{option}: {uri!r} is not a URI ({exc})") from None
        if parts.scheme not in DEFAULT_PORTS:
            raise ConfigError(f"{option}: {uri!r} must use the coap (NoSec) or coaps (DTLS-PSK) scheme")
        if not parts.hostname:
            raise ConfigError(f"{option}: {uri!r} has no host")
        if parts.query or parts.fragment:
            raise ConfigError(f"{option}: {uri!r} must not have a query or fragment")
        path = tuple(seg for seg in parts.path.split("/") if seg)
        if parts.path.endswith("/") and parts.path != "/" or "//" in parts.path:
            raise ConfigError(f"{option}: {uri!r} has an empty path segment or a trailing '/'")
        if need_path and not path:
            raise ConfigError(f"{option}: {uri!r} needs a base path (e.g. /emap)")
        return cls(parts.hostname, DEFAULT_PORTS[parts.scheme] if port is None else port, path, parts.scheme)

    @property
    def secured(self) -> bool:
        """True when this endpoint is served with DTLS-PSK (clause 8)."""
        return self.scheme == "coaps"

    def uri(self, port: int | None = None) -> str:
        """The URI of this endpoint and base path, with ``port`` replacing the configured one (port 0)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        tail = "".join("/" + seg for seg in self.path)
        return f"{self.scheme}://{host}:{self.port if port is None else port}{tail}"


@dataclass
class EmaConfig:
    """Everything the sample EMA is told at start (the CLI builds it; tests may build it directly)."""

    role: str = "upper"
    mode: str = "pull"
    bind: Endpoint = field(default_factory=lambda: Endpoint("127.0.0.1", DEFAULT_PORT, ("emap",)))
    lower_bind: Endpoint | None = None
    upper: str | None = None
    control: Endpoint = field(default_factory=lambda: Endpoint("127.0.0.1", 0))
    vtn_id: str = "vtn-sample"
    ven_id: str | None = None
    t_prompt: float = 10.0
    poll_freq: float = 10.0
    ack_timeout: float = 2.0
    ack_random_factor: float = 1.5
    max_retransmit: int = 4
    backoff_initial: float = 30.0
    backoff_cap: float = 900.0
    max_payload: int = 65536
    preallocated_ven_ids: tuple[str, ...] = ()
    self_chosen_ven_ids: bool = True
    opt_change: bool = True
    metadata_reports: tuple[str, ...] = DEFAULT_METADATA_REPORTS
    # Lower role declarations (ICS-6, ICS-7, ICS-13).
    signals: tuple[str, ...] = ()
    resource_ids: tuple[str, ...] = ()
    group_ids: tuple[str, ...] = ()
    group_names: tuple[str, ...] = ()
    party_ids: tuple[str, ...] = ()
    device_classes: tuple[str, ...] = ()
    market_contexts: tuple[str, ...] = ()
    longest_poll_period: float | None = None
    # `emapTransportAddress` a push-mode lower role announces when a relay or port forward stands in front of its
    # resources (EMAP-7.1.3-06); None: its own lower base URI.
    transport_address: str | None = None
    log_level: str = "INFO"
    # Clause 8 (ICS-4): PSK per identity (own and peers'); the upper EMA's vtnID a push-mode lower EMA accepts
    # as DTLS client identity before it is registered.
    psk: PskTable = field(default_factory=PskTable)
    upper_vtn_id: str | None = None
    # OSCORE context directory per peer identity: lower EMAs' venIDs, the upper EMA's vtnID
    # (``--upper-vtn-id``) (``conformance.security.oscore``).
    oscore: dict[str, str] = field(default_factory=dict)
    # Bounds (documented in docs/sample-ema.md).
    cache_per_peer: int = 64
    queue_limit: int = 256
    registrations_limit: int = 256
    events_limit: int = 1024
    # Resolved at run time by main once the endpoint is bound (port 0 replaced).
    upper_base_uri: str | None = None
    lower_base_uri: str | None = None

    @property
    def lower_endpoint(self) -> Endpoint:
        """The lower role's base URI: ``lower_bind``, else the ``bind`` endpoint with base path ``emapl``."""
        if self.lower_bind is not None:
            return self.lower_bind
        return dataclasses.replace(self.bind, path=DEFAULT_LOWER_PATH)

    @property
    def transmission(self) -> TransmissionParams:
        """The CoAP transmission parameters (EMAP-7.1.5-01, ICS-11)."""
        return TransmissionParams(self.ack_timeout, self.ack_random_factor, self.max_retransmit)

    @property
    def max_transmit_wait(self) -> float:
        """MAX_TRANSMIT_WAIT of RFC 7252 section 4.8.2 (93 s with the defaults)."""
        return self.transmission.max_transmit_wait

    @property
    def exchange_lifetime(self) -> float:
        """EXCHANGE_LIFETIME of RFC 7252 section 4.8.2 (247 s with the defaults)."""
        return self.transmission.exchange_lifetime

    def validate(self) -> None:
        """Reject inconsistent values with a one-line ConfigError naming the option."""
        checks = [
            (self.role in ("upper", "lower", "intermediate"), "--role: must be upper, lower or intermediate"),
            (self.mode in ("pull", "push"), "--mode: must be pull or push"),
            (bool(self.vtn_id), "--vtn-id: must not be empty"),
            (self.ven_id is None or bool(self.ven_id), "--ven-id: must not be empty"),
            (self.t_prompt > 0, "--t-prompt: must be > 0"),
            (self.poll_freq >= 1, "--poll-freq: must be >= 1 s (emapRequestedPollFreq >= PT1S)"),
            (self.ack_timeout > 0, "--ack-timeout: must be > 0"),
            (self.ack_random_factor >= 1, "--ack-random-factor: must be >= 1"),
            (self.max_retransmit >= 0, "--max-retransmit: must be >= 0"),
            (self.backoff_initial > 0, "--backoff-initial: must be > 0"),
            (self.backoff_cap >= self.backoff_initial, "--backoff-cap: must be >= --backoff-initial"),
            (self.max_payload >= 65536, "--max-payload: must be >= 65536 (EMAP-7.1.1-05)"),
            (all(self.preallocated_ven_ids), "--preallocated-ven-ids: empty venID"),
            (
                self.longest_poll_period is None or self.longest_poll_period >= 1,
                "--longest-poll-period: must be >= 1 s",
            ),
        ]
        for ok, text in checks:
            if not ok:
                raise ConfigError(text)
        if self.role == "intermediate":
            low = self.lower_endpoint
            if (low.host, low.port) != (self.bind.host, self.bind.port):
                raise ConfigError("--lower-bind: must use the host and port of --bind (EMAP-5-07)")
            if low.path == self.bind.path:
                raise ConfigError("--lower-bind: base path must differ from --bind's (EMAP-5-07)")
        if self.role in ("lower", "intermediate") and self.upper is None:
            raise ConfigError("--upper: required for the lower and intermediate roles")
        if self.upper is not None:
            Endpoint.parse(self.upper, "--upper", need_path=True)
        self._validate_security()

    @property
    def upper_oscore(self) -> bool:
        """True when the link to the upper EMA uses OSCORE (an ``--oscore`` context of ``--upper-vtn-id``)."""
        return self.upper is not None and self.upper_vtn_id is not None and self.upper_vtn_id in self.oscore

    @property
    def upper_secured(self) -> bool:
        """True when the link to the upper EMA uses DTLS-PSK (``--upper coaps://...``)."""
        return self.upper is not None and self.upper.startswith("coaps:")

    def _validate_security(self) -> None:
        """Clause 8: credentials for every secured link, one profile per link (EMAP-8-02, EMAP-8-04)."""
        serving_lower = self.role in ("lower", "intermediate") and self.mode == "push"
        lower_links = [identity for identity in self.oscore if identity != self.upper_vtn_id]
        if lower_links and (self.role == "lower" or self.bind.secured):
            raise ConfigError(
                f"--oscore: {lower_links[0]!r}: OSCORE lower links need an upper role on a coap --bind "
                "(one profile per link, EMAP-8-02)"
            )
        if self.upper_oscore and (self.upper_secured or serving_lower and self.lower_endpoint.secured):
            raise ConfigError("--oscore: the link to the upper EMA is coaps: one profile per link (8-02)")
        for option, endpoint in (("--bind", self.bind), ("--lower-bind", self.lower_endpoint)):
            if endpoint.secured and endpoint.host in ("0.0.0.0", "::"):
                raise ConfigError(f"{option}: a coaps endpoint needs a concrete address, not {endpoint.host}")
        if self.role != "lower" and self.bind.secured and not self.psk:
            raise ConfigError("--psk: a coaps --bind needs the PSK of at least one lower EMA")
        if not self.upper_secured:
            if serving_lower and self.lower_endpoint.secured:
                raise ConfigError("--upper: a coaps lower endpoint needs a coaps --upper (EMAP-8-02)")
            return
        if self.ven_id is None or self.ven_id not in self.psk:
            raise ConfigError("--ven-id: a coaps --upper needs --ven-id and its --psk (EMAP-8-04)")
        if serving_lower:
            if not self.lower_endpoint.secured:
                raise ConfigError("--bind: a push-mode lower EMA of a coaps --upper serves coaps (EMAP-8-02)")
            if self.upper_vtn_id is None or self.upper_vtn_id not in self.psk:
                raise ConfigError("--upper-vtn-id: push mode over coaps needs it and its --psk (EMAP-8-07)")
