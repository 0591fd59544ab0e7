"""Mutants of the sample intermediate EMA (clause 5): its one endpoint with two base paths (EMAP-5-07) and the
identities it keeps apart between the link to its upper EMA and the links to its lower EMAs (EMAP-5-08,
DEC-59: it originates its own messages with its own IDs on each link).

Each function wraps ``IntermediateEma.__init__``, the lower role's transport address or the front door's
routes; it runs before the EMA starts and changes nothing outside the intermediate role.
"""

from __future__ import annotations

import copy

from conformance.ema.mutants.registry import mutant, wrap

INTERMEDIATE = ("intermediate",)


def _after_init(change) -> None:
    """Run ``change(intermediate_ema)`` once an IntermediateEma is built."""
    from conformance.ema.intermediate import IntermediateEma

    def make(init):
        def init_changed(self, config):
            init(self, config)
            change(self)

        return init_changed

    wrap(IntermediateEma, "__init__", make)


@mutant("i-lower-path-shared", ["EMAP-5-07"], ["TC-L-5-01"], INTERMEDIATE,
        "the intermediate announces its upper base URI (same base path) as its lower role's transport address")
def _lower_path_shared():
    from conformance.ema.lower import LowerEma

    def make(address):
        def shared_path(self):
            return self.config.upper_base_uri if self.config.role == "intermediate" else address.fget(self)

        return property(shared_path)

    wrap(LowerEma, "transport_address", make)


@mutant("i-lower-resources-unserved", ["EMAP-5-07"], ["TC-L-5-01"], INTERMEDIATE,
        "registered in push mode, the intermediate does not serve its lower-EMA resources (4.04 under its "
        "lower base path)")
def _lower_resources_unserved():
    from conformance.ema.frontdoor import FrontDoor

    def make(init):
        def init_upper_only(self, routes, config, *args, **kwargs):
            if config.role == "intermediate":
                routes = {path: role for path, role in routes.items() if role.side == "U"}
            init(self, routes, config, *args, **kwargs)

        return init_upper_only

    wrap(FrontDoor, "__init__", make)


class _VtnIdOfParent:
    """The upper role's configuration, whose ``vtn_id`` is the vtnID of the intermediate's own upper EMA once
    the lower role is registered."""

    def __init__(self, config, lower) -> None:
        self._config, self._lower = config, lower

    def __getattr__(self, name):
        return getattr(self._config, name)

    @property
    def vtn_id(self) -> str:
        link = self._lower.link
        return link.vtn_id if link is not None else self._config.vtn_id


@mutant("i-upper-vtnid-copied", ["EMAP-5-08"], ["TC-L-5-02"], INTERMEDIATE,
        "as upper EMA the intermediate uses the vtnID of its own upper EMA instead of its own")
def _upper_vtnid_copied():
    def change(ema):
        ema.upper.config = _VtnIdOfParent(ema.upper.config, ema.lower)

    _after_init(change)


@mutant("i-lower-venid-own", ["EMAP-5-08"], ["TC-L-5-02"], INTERMEDIATE,
        "as lower EMA the intermediate sends its own vtnID as venID instead of the venID its upper EMA assigned")
def _lower_venid_own():
    def change(ema):
        lower, vtn_id = ema.lower, ema.upper.config.vtn_id

        def make(created):
            def created_own_venid(*args, **kwargs):
                result = created(*args, **kwargs)
                if lower.link is not None:
                    lower.link.ven_id = vtn_id
                return result

            return created_own_venid

        wrap(lower, "_created", make)

    _after_init(change)


@mutant("i-events-relayed-verbatim", ["EMAP-5-08"], ["TC-L-5-02"], INTERMEDIATE,
        "the intermediate relays each emapDistributeEvent of its upper EMA unchanged (its upper EMA's vtnID) "
        "to its own lower EMAs")
def _events_relayed_verbatim():
    from conformance.ema.upper.outbound import DISTRIBUTE, Outgoing

    def change(ema):
        upper = ema.upper

        def make(process):
            def process_and_relay(message):
                answer = process(message)
                if message.name == DISTRIBUTE:
                    for link in list(upper.registry):
                        upper.send(link, Outgoing(DISTRIBUTE, envelope=copy.deepcopy(message.envelope),
                                                  epoch=link.epoch))
                return answer

            return process_and_relay

        wrap(ema.lower, "process", make)

    _after_init(change)
