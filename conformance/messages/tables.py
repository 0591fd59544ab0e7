"""Message catalogue (Table B-1), procedures (Table 6.1-1), resources (Table 7.1-2) and poll replies (Table 6.6-1)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MessageInfo:
    """One row of Table B-1."""

    name: str
    service: str
    kind: str
    senders: frozenset[str]
    field_table: str


def _info(name: str, service: str, kind: str, senders: str, table: str) -> tuple[str, MessageInfo]:
    return name, MessageInfo(name, service, kind, frozenset(senders), table)


#: Table B-1 — the 23 messages; ``kind`` is the message type of 0.2 (request-type or response-type).
MESSAGES: dict[str, MessageInfo] = dict([
    _info("emapQueryRegistration", "RegisterParty", "request", "L", "6.2.6-1"),
    _info("emapCreatedPartyRegistration", "RegisterParty", "response", "U", "6.2.6-2"),
    _info("emapCreatePartyRegistration", "RegisterParty", "request", "L", "6.2.6-10"),
    _info("emapCancelPartyRegistration", "RegisterParty", "request", "UL", "6.2.6-11"),
    _info("emapCanceledPartyRegistration", "RegisterParty", "response", "UL", "6.2.6-12"),
    _info("emapRequestReregistration", "RegisterParty", "request", "U", "6.2.6-13"),
    _info("emapResponse", "RegisterParty", "response", "UL", "6.2.6-14"),
    _info("emapRequestEvent", "Event", "request", "L", "6.3.4-1"),
    _info("emapPoll", "Event", "request", "L", "6.3.4-3"),
    _info("emapDistributeEvent", "Event", "request", "U", "6.3.4-4"),
    _info("emapCreatedEvent", "Event", "response", "L", "6.3.4-20"),
    _info("emapRegisterReport", "Report", "request", "UL", "6.4.6-1"),
    _info("emapRegisteredReport", "Report", "response", "UL", "6.4.6-5"),
    _info("emapCreateReport", "Report", "request", "UL", "6.4.6-6"),
    _info("emapCreatedReport", "Report", "response", "UL", "6.4.6-12"),
    _info("emapUpdateReport", "Report", "request", "UL", "6.4.6-14"),
    _info("emapUpdatedReport", "Report", "response", "UL", "6.4.6-23"),
    _info("emapCancelReport", "Report", "request", "UL", "6.4.6-24"),
    _info("emapCanceledReport", "Report", "response", "UL", "6.4.6-25"),
    _info("emapCreateOpt", "Opt", "request", "L", "6.5.4-1"),
    _info("emapCreatedOpt", "Opt", "response", "U", "6.5.4-5"),
    _info("emapCancelOpt", "Opt", "request", "L", "6.5.4-6"),
    _info("emapCanceledOpt", "Opt", "response", "U", "6.5.4-7"),
])

#: Table 6.1-1 — every response message a request message may get (P5: `emapCreatedEvent` or `emapResponse`;
#: P13: one of the poll replies).
RESPONSES_OF: dict[str, frozenset[str]] = {
    "emapQueryRegistration": frozenset({"emapCreatedPartyRegistration"}),
    "emapCreatePartyRegistration": frozenset({"emapCreatedPartyRegistration"}),
    "emapCancelPartyRegistration": frozenset({"emapCanceledPartyRegistration"}),
    "emapRequestReregistration": frozenset({"emapResponse"}),
    "emapDistributeEvent": frozenset({"emapCreatedEvent", "emapResponse"}),
    "emapRequestEvent": frozenset({"emapDistributeEvent"}),
    "emapRegisterReport": frozenset({"emapRegisteredReport"}),
    "emapCreateReport": frozenset({"emapCreatedReport"}),
    "emapUpdateReport": frozenset({"emapUpdatedReport"}),
    "emapCancelReport": frozenset({"emapCanceledReport"}),
    "emapCreateOpt": frozenset({"emapCreatedOpt"}),
    "emapCancelOpt": frozenset({"emapCanceledOpt"}),
}

#: Table 6.6-1 — R0 to R7.
POLL_REPLIES: tuple[str, ...] = (
    "emapResponse", "emapCancelPartyRegistration", "emapRequestReregistration", "emapDistributeEvent",
    "emapRegisterReport", "emapCreateReport", "emapUpdateReport", "emapCancelReport",
)
RESPONSES_OF["emapPoll"] = frozenset(POLL_REPLIES)

#: Table 6.1-1 — the response message of each request message: the `emapCreatedEvent` form for
#: `emapDistributeEvent` (`emapResponse` when no event is `always`, see RESPONSES_OF), None for `emapPoll`.
RESPONSE_OF: dict[str, str | None] = {
    request: (None if request == "emapPoll" else
              "emapCreatedEvent" if request == "emapDistributeEvent" else next(iter(responses)))
    for request, responses in RESPONSES_OF.items()
}

UPPER_RESOURCES: tuple[str, ...] = ("EiRegisterParty", "EiEvent", "EiReport", "EiOpt", "EmapPoll")
LOWER_RESOURCES: tuple[str, ...] = ("EiRegisterParty", "EiEvent", "EiReport")

#: Table 7.1-2 — (side serving the resource, resource) -> messages accepted by POST there.
RESOURCES: dict[tuple[str, str], frozenset[str]] = {
    ("U", "EiRegisterParty"): frozenset({"emapQueryRegistration", "emapCreatePartyRegistration",
                                         "emapCancelPartyRegistration", "emapCanceledPartyRegistration",
                                         "emapResponse"}),
    ("U", "EiEvent"): frozenset({"emapRequestEvent", "emapCreatedEvent", "emapResponse"}),
    ("U", "EiReport"): frozenset({"emapRegisterReport", "emapCreateReport", "emapUpdateReport", "emapCancelReport",
                                  "emapRegisteredReport", "emapCreatedReport", "emapUpdatedReport",
                                  "emapCanceledReport"}),
    ("U", "EiOpt"): frozenset({"emapCreateOpt", "emapCancelOpt"}),
    ("U", "EmapPoll"): frozenset({"emapPoll"}),
    ("L", "EiRegisterParty"): frozenset({"emapCancelPartyRegistration", "emapRequestReregistration"}),
    ("L", "EiEvent"): frozenset({"emapDistributeEvent"}),
    ("L", "EiReport"): frozenset({"emapRegisterReport", "emapCreateReport", "emapUpdateReport",
                                  "emapCancelReport"}),
}

_SERVICE_RESOURCES = {"RegisterParty": "EiRegisterParty", "Event": "EiEvent", "Report": "EiReport", "Opt": "EiOpt"}

#: Message name -> resource of its service (`emapPoll`: `EmapPoll`; `emapResponse`: `EiRegisterParty`, although it
#: is also accepted at `EiEvent`, Table 7.1-2).
SERVICE_RESOURCE: dict[str, str] = {
    name: "EmapPoll" if name == "emapPoll" else _SERVICE_RESOURCES[info.service] for name, info in MESSAGES.items()
}
