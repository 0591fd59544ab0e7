"""The upper EMA as requester (6.4): L's metadata (EMAP-6.4.2-04 to -06), U's report requests and cancels
(stimuli), and L's reports (EMAP-6.4.4-04)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from conformance.ema.upper.ids import IdSource
from conformance.ema.upper.links import Link
from conformance.ema.upper.outbound import Outgoing
from conformance.ema.upper.reporter import METADATA, Failure, first_failure, window_of
from conformance.messages import ValidMessage, build, timefmt
from conformance.messages.rules import metadata_rules


@dataclass(eq=False)
class OwnRequest:
    """A report request U sent to L: "sent" until L's `emapCreatedReport`, then "active" (EMAP-6.4.1-02)."""

    report_request_id: str
    specifier_id: str
    r_ids: list[str]
    back: float
    window: tuple[datetime, float] | None
    state: str = "sent"
    final_expected: bool = False

    def end(self) -> None:
        self.state = "ended"

    @property
    def window_end(self) -> datetime | None:
        if self.window is None or self.window[1] == 0:
            return None
        return self.window[0] + timedelta(seconds=self.window[1])


class Requester:
    """U's report requests towards every lower EMA."""

    def __init__(self, ids: IdSource) -> None:
        self.ids = ids

    # Stimuli
    def request(
        self,
        link: Link,
        spec_id: str,
        r_ids: list[str] | None,
        granularity: float,
        back: float,
        window: tuple[datetime, float] | None,
        report_request_id: str | None,
    ) -> Outgoing:
        """The `emapCreateReport` of one request (arguments checked by the caller)."""
        if spec_id != METADATA and r_ids is None:
            metadata = next(m for m in link.l_metadata if m["reportSpecifierID"] == spec_id)
            r_ids = [d["rID"] for d in metadata["emapReportDescription"]]
        rid = report_request_id or self.ids.new("rq", lambda v: v in link.u_used_request_ids)
        request = build.report_request(
            rid,
            spec_id,
            r_ids or (),
            granularity=granularity,
            back_duration=back,
            interval=None if window is None else (window[0], window[1]),
        )
        link.u_used_request_ids.add(rid)
        window = window_of(request["reportSpecifier"])
        link.u_requests[rid] = OwnRequest(rid, spec_id, list(r_ids or ()), back, window)
        envelope = build.create_report(self.ids.new("cr"), link.ven_id, [request])
        return Outgoing("emapCreateReport", envelope, context={"requests": [rid]}, epoch=link.epoch)

    def cancel(self, link: Link, report_request_ids: list[str], follow: bool) -> Outgoing:
        envelope = build.cancel_report(self.ids.new("xr"), link.ven_id, report_request_ids, follow)
        return Outgoing(
            "emapCancelReport",
            envelope,
            context={"requests": report_request_ids, "follow": follow},
            epoch=link.epoch,
        )

    @staticmethod
    def active(link: Link, report_request_id: str) -> bool:
        request = link.u_requests.get(report_request_id)
        return request is not None and request.state == "active"

    # L's answers to U's requests
    @staticmethod
    def created(link: Link, item: Outgoing, message: ValidMessage) -> None:
        """`emapCreatedReport`: 200 makes the requests active; an error means none was created."""
        for rid in item.context["requests"]:
            request = link.u_requests.get(rid)
            if request is None or request.state == "ended":
                continue
            if message.response_code == "200":
                request.state = "active"
            else:
                _forget(link, rid)

    @staticmethod
    def canceled(link: Link, item: Outgoing, message: ValidMessage) -> None:
        """`emapCanceledReport` 200: the requests end, except those still pending for a final report."""
        if message.response_code != "200":
            return
        pending = set(message.body["emapPendingReports"].get("reportRequestID", []))
        for rid in item.context["requests"]:
            if item.context["follow"] and rid in pending and rid in link.u_requests:
                link.u_requests[rid].final_expected = True
            else:
                _forget(link, rid)

    # L's reports (EMAP-6.4.4-04)
    @staticmethod
    def check_update(link: Link, body: dict) -> Failure | None:
        for report in body["emapReport"]:
            rid = report["reportRequestID"]
            request = link.u_requests.get(rid)
            if request is None or request.state == "ended":
                return "452", f"reportRequestID {rid!r} is not a request of U"
            if report["reportSpecifierID"] != request.specifier_id:
                return (
                    "452",
                    f"reportSpecifierID {report['reportSpecifierID']!r} is not that of request {rid!r}",
                )
            for interval in report["intervals"]["interval"]:
                for payload in interval.get("emapReportPayload", []):
                    if payload["rID"] not in request.r_ids:
                        return "452", f"rID {payload['rID']!r} is not in request {rid!r}"
        return None

    @staticmethod
    def update(link: Link, body: dict) -> None:
        """An accepted report: one-shot and final reports end their request, as does the last of a window."""
        for report in body["emapReport"]:
            request = link.u_requests[report["reportRequestID"]]
            last = report["intervals"]["interval"][-1]
            end = timefmt.parse_datetime(last["dtstart"]) + timedelta(
                seconds=timefmt.parse_duration(last["duration"])
            )
            window_end = request.window_end
            if request.back == 0 or request.final_expected or (window_end is not None and end >= window_end):
                _forget(link, request.report_request_id)

    # L's metadata (EMAP-6.4.2-04 to -06)
    @staticmethod
    def check_register(link: Link, body: dict) -> Failure | None:
        rid = body.get("reportRequestID")
        if rid is not None:
            request = link.u_requests.get(rid)
            if request is None or request.state == "ended" or request.specifier_id != METADATA:
                return "452", f"reportRequestID {rid!r} names no METADATA request of U"
        return first_failure(metadata_rules(body, "L"), "454")

    @staticmethod
    def register(link: Link, body: dict) -> None:
        """Accepted metadata replaces L's; U's requests naming withdrawn reports or rIDs end."""
        link.l_metadata = body["emapReport"]
        for rid, request in list(link.u_requests.items()):
            if request.specifier_id == METADATA:
                continue
            current = next(
                (m for m in link.l_metadata if m["reportSpecifierID"] == request.specifier_id), None
            )
            known = {d["rID"] for d in current["emapReportDescription"]} if current else set()
            if current is None or not set(request.r_ids) <= known:
                _forget(link, rid)
        if body.get("reportRequestID") is not None:
            _forget(link, body["reportRequestID"])


def _forget(link: Link, report_request_id: str) -> None:
    request = link.u_requests.pop(report_request_id, None)
    if request is not None:
        request.end()
