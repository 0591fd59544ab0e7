"""Error answers of the upper EMA: the procedure's response message carrying the code (EMAP-6.1-01), still
complete (EMAP-6.1-09), with a `responseDescription` (EMAP-6.1-11)."""

from __future__ import annotations

from conformance.ema.upper.links import Link
from conformance.messages import ValidMessage, build


class Rejected(Exception):
    """A failed application check: ``code`` and a human-readable ``description`` (EMAP-6.1-11)."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description


def sender_ven_id(message: ValidMessage) -> str | None:
    """The `venID` a lower EMA's message names (EMAP-6.2.1-01 under NoSec)."""
    body = message.body
    if message.name == "emapRequestEvent":
        return body["eiRequestEvent"]["venID"]
    if message.name == "emapCreatedEvent":
        return body["eiCreatedEvent"]["venID"]
    return body.get("venID")


def error_reply(
    message: ValidMessage,
    code: str,
    description: str,
    *,
    vtn_id: str,
    link: Link | None,
    pending: list[str] | None = None,
    new_request_id: str = "",
) -> dict:
    """The response message of ``message``'s procedure with ``code`` (response-type messages: `emapResponse`).
    """
    body = message.body
    request_id = message.request_id or ""
    ven_id = sender_ven_id(message) or (link.ven_id if link else None)
    name = message.name
    if name in ("emapQueryRegistration", "emapCreatePartyRegistration"):
        return build.created_party_registration(request_id, vtn_id, code=code, description=description)
    if name == "emapCancelPartyRegistration":
        return build.canceled_party_registration(
            request_id, body["registrationID"], body["venID"], code, description
        )
    if name == "emapRequestEvent":
        return build.distribute_event(
            new_request_id, vtn_id, [], ei_response=build.ei_response(request_id, code, description)
        )
    if name == "emapRegisterReport":
        return build.registered_report(request_id, ven_id, code, description)
    if name == "emapCreateReport":
        return build.created_report(request_id, ven_id, pending or [], code, description)
    if name == "emapUpdateReport":
        return build.updated_report(request_id, ven_id, code, description)
    if name == "emapCancelReport":
        return build.canceled_report(request_id, ven_id, pending or [], code, description)
    if name == "emapCreateOpt":
        return build.created_opt(request_id, body["optID"], code, description)
    if name == "emapCancelOpt":
        return build.canceled_opt(request_id, body["optID"], code, description)
    return build.response(request_id, code, ven_id, description)  # emapPoll and POSTed response-type messages
