"""What the "Community load" section of the HTML report shows, taken from a run's ``load`` section
(docs/load.md): errors by code with their meaning, violations by requirement with their titles, the charts."""

from __future__ import annotations

from conformance.report.load_chart import latency_chart, throughput_chart

#: Table 6.1-3 of the binding: application response codes (``responseCode``).
RESPONSE_CODES = {
    "450": "Out of sequence",
    "451": "Not allowed",
    "452": "Invalid ID",
    "453": "Not recognized",
    "454": "Invalid data",
    "459": "Compliance error",
    "460": "Signal not supported",
    "461": "Report not supported",
    "462": "Target mismatch",
    "463": "Not registered or authorized",
    "469": "Other",
}
#: RFC 7252 and RFC 7959 response codes an upper EMA may answer with.
COAP_CODES = {
    "4.00": "Bad Request",
    "4.01": "Unauthorized",
    "4.02": "Bad Option",
    "4.04": "Not Found",
    "4.05": "Method Not Allowed",
    "4.06": "Not Acceptable",
    "4.08": "Request Entity Incomplete",
    "4.13": "Request Entity Too Large",
    "4.15": "Unsupported Content-Format",
    "5.00": "Internal Server Error",
    "5.01": "Not Implemented",
    "5.03": "Service Unavailable",
}
TRANSPORT = {
    "timeout": "no complete response within MAX_TRANSMIT_WAIT",
    "reset": "the IUT answered with RST",
    "protocol": "a CoAP answer that ends no exchange (block-wise transfer broken off, endpoint closed)",
}
INVALID = "2.04/invalid"


def error_kind(outcome: str) -> tuple[str, str]:
    """(kind, meaning) of a failed exchange's outcome key ("2.04/463", "5.03", "timeout", ...)."""
    if outcome in TRANSPORT:
        return "transport", TRANSPORT[outcome]
    if outcome == INVALID:
        return "payload", "2.04 whose payload is not a valid EMAP message"
    if outcome.startswith("2.04/"):
        code = outcome.removeprefix("2.04/")
        return "application", f"responseCode {code} {RESPONSE_CODES.get(code, '(not in Table 6.1-3)')}"
    return "CoAP", COAP_CODES.get(outcome, "")


def _errors(section: dict) -> list[dict]:
    """One row per failed outcome: its count and where (resource: count) it happened."""
    rows = []
    for outcome, count in section["errors_by_code"].items():
        kind, meaning = error_kind(outcome)
        where = [
            (resource, figures["outcomes"][outcome])
            for resource, figures in section["resources"].items()
            if outcome in figures["outcomes"]
        ]
        rows.append({"code": outcome, "kind": kind, "meaning": meaning, "count": count, "where": where})
    return rows


def load_view(section: dict, titles: dict[str, str]) -> dict:
    """The template's view of a ``load`` section; ``titles`` maps requirement ids to catalogue titles."""
    violations = section["violations"]
    moments = {"ramp_s": section.get("ramp_s"), "stop_s": section["duration_s"]}
    return {
        "full_checked": min(section.get("full_check_emas", 0), section["lower_emas"]),
        "errors": _errors(section),
        "violated": [
            {"id": rid, "title": titles.get(rid, ""), "count": count}
            for rid, count in violations["by_requirement"].items()
        ],
        "latency_chart": latency_chart(section["timeline"], **moments),
        "throughput_chart": throughput_chart(section["timeline"], **moments),
    }
