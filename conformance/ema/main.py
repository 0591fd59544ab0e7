"""``emap-conformance ema``: run the sample EMA as a standalone program.

Prints one ready line on stdout (``{"event": "ready", "upper": URI|null, "lower": URI|null, "control": URI}``,
ports resolved when port 0 was asked), logs to stderr, shuts down cleanly on SIGINT/SIGTERM (exit 0). Bad
option values: one-line error on stderr, exit 2."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import signal
import sys

from conformance.ema.config import DEFAULT_BIND, DEFAULT_CONTROL, ConfigError, EmaConfig, Endpoint
from conformance.messages.rules import base_uri_problem
from conformance.security.credentials import CredentialsError, PskTable
from conformance.security.oscore import parse_contexts

log = logging.getLogger("conformance.ema")

USAGE_EXIT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2
        raise ConfigError(message)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number of seconds")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not at least 1")
    return value


def parser() -> argparse.ArgumentParser:
    d = EmaConfig()
    p = _Parser(prog="emap-conformance ema", description="Run the sample EMA (NoSec, DTLS-PSK or OSCORE).")
    p.add_argument("--role", choices=("upper", "lower", "intermediate"), required=True)
    p.add_argument(
        "--mode",
        choices=("pull", "push"),
        default=d.mode,
        help="registration mode of the lower role (default pull); an upper EMA serves both",
    )
    p.add_argument(
        "--bind",
        default=DEFAULT_BIND,
        help=f"base URI of the upper role / the endpoint (default {DEFAULT_BIND}; port 0 = any free port)",
    )
    p.add_argument(
        "--lower-bind", help="base URI of the lower role (default: --bind's host and port, path /emapl)"
    )
    p.add_argument("--upper", help="base URI of the upper EMA the lower role registers with")
    p.add_argument(
        "--transport-address",
        help="emapTransportAddress a push-mode lower role announces (default: its --lower-bind base URI); for a "
        "relay or port forward in front of its resources",
    )
    p.add_argument(
        "--control",
        default=DEFAULT_CONTROL,
        help=f"endpoint of the stimulus control resource (default {DEFAULT_CONTROL})",
    )
    p.add_argument("--vtn-id", default=d.vtn_id, help=f"vtnID of the upper role (default {d.vtn_id})")
    p.add_argument("--ven-id", help="pre-allocated venID of the lower role")
    p.add_argument("--t-prompt", type=_seconds, default=d.t_prompt, help="T_PROMPT in s (default 10)")
    p.add_argument(
        "--poll-freq",
        type=_seconds,
        default=d.poll_freq,
        help="emapRequestedPollFreq the upper role grants, in s (default 10)",
    )
    p.add_argument("--ack-timeout", type=_seconds, default=d.ack_timeout, help="ACK_TIMEOUT in s (default 2)")
    p.add_argument(
        "--ack-random-factor",
        type=_seconds,
        default=d.ack_random_factor,
        help="ACK_RANDOM_FACTOR (default 1.5)",
    )
    p.add_argument("--max-retransmit", type=int, default=d.max_retransmit, help="MAX_RETRANSMIT (default 4)")
    p.add_argument(
        "--backoff-initial",
        type=_seconds,
        default=d.backoff_initial,
        help="initial T_BACKOFF in s (default 30)",
    )
    p.add_argument(
        "--backoff-cap", type=_seconds, default=d.backoff_cap, help="T_BACKOFF cap in s (default 900)"
    )
    p.add_argument(
        "--max-payload",
        type=int,
        default=d.max_payload,
        help="largest request payload accepted, bytes (default 65536, ICS-9)",
    )
    p.add_argument(
        "--registrations-limit",
        type=_positive_int,
        default=d.registrations_limit,
        help="most lower EMAs registered at once; a create beyond it is answered 469 (default 256)",
    )
    p.add_argument(
        "--preallocated-ven-ids",
        nargs="*",
        default=[],
        metavar="VEN_ID",
        help="venIDs pre-allocated by the upper role (ICS-5)",
    )
    p.add_argument(
        "--no-self-chosen-ven-ids",
        action="store_true",
        help="upper role: refuse venIDs chosen by the lower EMA (ICS-5)",
    )
    p.add_argument("--no-opt-change", action="store_true", help="do not support Annex A opt change (ICS-10)")
    p.add_argument(
        "--metadata-reports",
        nargs="*",
        default=list(d.metadata_reports),
        metavar="NAME",
        help="metadata reportNames this EMA offers (ICS-8; default: " + " ".join(d.metadata_reports) + ")",
    )
    lower = p.add_argument_group("lower role declarations (ICS-6, ICS-7, ICS-13)")
    for option, what in (
        ("signals", "signalNames supported besides SIMPLE"),
        ("resource-ids", "resourceIDs"),
        ("group-ids", "groupIDs"),
        ("group-names", "groupNames"),
        ("party-ids", "partyIDs"),
        ("device-classes", "device classes (endDeviceAsset.mrid)"),
        ("market-contexts", "market contexts"),
    ):
        lower.add_argument(f"--{option}", nargs="*", default=[], metavar="VALUE", help=what)
    lower.add_argument("--longest-poll-period", type=_seconds, help="longest poll period in s (ICS-13)")
    security = p.add_argument_group("security (clause 8, ICS-4): a coaps --bind / --upper selects DTLS-PSK")
    security.add_argument(
        "--psk",
        nargs="*",
        default=[],
        metavar="IDENTITY=HEX",
        help="pre-shared key per PSK identity (own venID, lower EMAs' venIDs, upper EMA's vtnID)",
    )
    security.add_argument(
        "--oscore",
        nargs="*",
        default=[],
        metavar="IDENTITY=DIR",
        help="OSCORE context directory per peer identity (lower EMAs' venIDs; the --upper-vtn-id)",
    )
    security.add_argument(
        "--upper-vtn-id",
        help="vtnID of the upper EMA: the identity a push-mode lower EMA accepts (DTLS-PSK) or whose "
        "--oscore context protects the link",
    )
    p.add_argument("--log-level", default=d.log_level, choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    return p


def config_from_args(argv: list[str]) -> EmaConfig:
    """Build and check the configuration; raises ConfigError (one line) on a bad value."""
    ns = parser().parse_args(argv)
    try:
        psk = PskTable.parse(ns.psk)
        oscore = parse_contexts(ns.oscore)
    except CredentialsError as exc:
        raise ConfigError(f"--{exc}") from None
    config = EmaConfig(
        role=ns.role,
        mode=ns.mode,
        bind=Endpoint.parse(ns.bind, "--bind", need_path=True),
        lower_bind=Endpoint.parse(ns.lower_bind, "--lower-bind", need_path=True) if ns.lower_bind else None,
        upper=ns.upper,
        transport_address=_transport_address(ns.transport_address),
        control=Endpoint.parse(ns.control, "--control", need_path=False),
        vtn_id=ns.vtn_id,
        ven_id=ns.ven_id,
        t_prompt=ns.t_prompt,
        poll_freq=ns.poll_freq,
        ack_timeout=ns.ack_timeout,
        ack_random_factor=ns.ack_random_factor,
        max_retransmit=ns.max_retransmit,
        backoff_initial=ns.backoff_initial,
        backoff_cap=ns.backoff_cap,
        max_payload=ns.max_payload,
        registrations_limit=ns.registrations_limit,
        preallocated_ven_ids=tuple(ns.preallocated_ven_ids),
        self_chosen_ven_ids=not ns.no_self_chosen_ven_ids,
        opt_change=not ns.no_opt_change,
        metadata_reports=tuple(ns.metadata_reports),
        signals=tuple(ns.signals),
        resource_ids=tuple(ns.resource_ids),
        group_ids=tuple(ns.group_ids),
        group_names=tuple(ns.group_names),
        party_ids=tuple(ns.party_ids),
        device_classes=tuple(ns.device_classes),
        market_contexts=tuple(ns.market_contexts),
        longest_poll_period=ns.longest_poll_period,
        log_level=ns.log_level,
        psk=psk,
        oscore=oscore,
        upper_vtn_id=ns.upper_vtn_id,
    )
    config.validate()
    return config


def _transport_address(uri: str | None) -> str | None:
    """The --transport-address, when given, must be a base URI (EMAP-7.1.3-06)."""
    problem = uri is not None and base_uri_problem(uri)
    if problem:
        raise ConfigError(f"--transport-address {uri!r}: {problem}")
    return uri


def build_agent(config: EmaConfig):
    """The Agent for the configured role (role modules are imported only when used)."""
    from conformance.ema.role import SingleRoleAgent

    if config.role == "upper":
        from conformance.ema.upper import UpperEma

        return SingleRoleAgent(UpperEma(config), config.bind.path)
    if config.role == "lower":
        from conformance.ema.lower import LowerEma

        return SingleRoleAgent(LowerEma(config), config.lower_endpoint.path)
    from conformance.ema.intermediate import IntermediateEma

    return IntermediateEma(config)


def served_routes(config: EmaConfig, agent) -> dict:
    """The routes the front door serves: a pull-mode lower role serves no resources (Table 5-1)."""
    if config.mode == "pull" and config.role in ("lower", "intermediate"):
        lower_path = config.lower_endpoint.path
        return {path: role for path, role in agent.routes.items() if path != lower_path}
    return dict(agent.routes)


class RunningEma:
    """A started sample EMA: front door, control resource and agent. Used by ``run`` and by tests."""

    def __init__(self, config: EmaConfig) -> None:
        self.config = config
        self.agent = None
        self.front_door = None  # the FrontDoor site once started (None for a lower EMA in pull mode)
        self.front_context = None  # its aiocoap context
        self._contexts = []
        self.ready: dict = {}

    async def start(self) -> dict:
        """Bind, start the agent and return the ready object."""
        from conformance.ema.control import ControlSite
        from conformance.ema.frontdoor import FrontDoor, serve_site
        from conformance.ema.security import SecurityGuard
        from conformance.security.dtls import set_process_credentials

        config = self.config
        guard = SecurityGuard(config)
        if guard.client_credentials is not None:  # the roles' CoapClients present these (EMAP-8-04, -05)
            set_process_credentials(guard.client_credentials)
        self.agent = build_agent(config)
        routes = served_routes(config, self.agent)
        upper = lower = None
        try:
            if routes:
                endpoint = config.lower_endpoint if config.role == "lower" else config.bind
                self.front_door = FrontDoor(routes, config, guard)
                ctx, port = await serve_site(self.front_door, endpoint, config.psk, guard.oscore_credentials)
                self._contexts.append(ctx)
                self.front_context = ctx
                if config.role != "lower":
                    upper = config.upper_base_uri = config.bind.uri(port)
                if config.lower_endpoint.path in routes:
                    lower = config.lower_base_uri = config.lower_endpoint.uri(port)
            ctx, port = await serve_site(ControlSite(self.agent.stimulate), config.control)
            self._contexts.append(ctx)
            await self.agent.start()
        except BaseException:
            await self.stop()
            raise
        control = dataclasses.replace(config.control, path=()).uri(port)
        self.ready = {"event": "ready", "upper": upper, "lower": lower, "control": control}
        return self.ready

    async def stop(self) -> None:
        if self.agent is not None:
            try:
                await self.agent.stop()
            except Exception:
                log.exception("stopping the EMA failed")
            self.agent = None
        while self._contexts:
            await self._contexts.pop().shutdown()
        if self.config.psk or self.config.oscore:
            from conformance.security.dtls import set_process_credentials

            set_process_credentials(None)


async def _serve(config: EmaConfig) -> int:
    ema = RunningEma(config)
    try:
        ready = await ema.start()
    except OSError as exc:
        print(f"ema: cannot bind: {exc}", file=sys.stderr)
        return USAGE_EXIT
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(json.dumps(ready), flush=True)
    log.info("sample EMA (%s) ready: %s", config.role, json.dumps(ready))
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        await ema.stop()
    return 0


def run(argv: list[str]) -> int:
    """Entry point of ``emap-conformance ema``."""
    try:
        config = config_from_args(list(argv))
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except ConfigError as exc:
        print(f"ema: {exc}", file=sys.stderr)
        return USAGE_EXIT
    logging.basicConfig(
        level=config.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return asyncio.run(_serve(config))


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
