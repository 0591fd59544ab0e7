"""A lower EMA as requester (6.4): the upper EMA's metadata, the requests L made, and the checks on what the
upper EMA sends it as reporter.

EMAP-6.4.1-02 (reports for a request not yet answered are accepted), EMAP-6.4.2-05 (withdrawn metadata ends
requests), EMAP-6.4.2-06 (`reportRequestID` of a `METADATA` answer, else 452), EMAP-6.4.3-02 (new
`reportRequestID`s only), EMAP-6.4.4-04 (452 checks on `emapUpdateReport`), EMAP-6.4.5-01/-03.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from conformance.messages import timefmt

from .reporter import Refusal


@dataclass
class Requested:
    """One request L sent to its upper EMA."""

    request_id: str
    specifier_id: str
    rids: tuple[str, ...]
    one_shot: bool
    window_end: object = None
    confirmed: bool = False
    final: bool = False


@dataclass
class Requester:
    peer_metadata: list[dict] = field(default_factory=list)
    requests: dict[str, Requested] = field(default_factory=dict)
    used_ids: set[str] = field(default_factory=set)

    def reset(self, *, new_registration: bool) -> None:
        """Table 6.2-2: the peer's metadata and all requests end; used IDs survive only a re-registration."""
        self.peer_metadata = []
        self.requests.clear()
        if new_registration:
            self.used_ids.clear()

    def usable(self, request_id: str) -> str | None:
        """Why ``request_id`` may not be used for a new request (EMAP-6.4.3-02), or None."""
        if request_id == "0":
            return 'reportRequestID "0" is reserved'
        if request_id in self.used_ids:
            return f"reportRequestID {request_id!r} was used before in this registration"
        return None

    def sent(self, request: dict) -> None:
        """An `EmapReportRequest` L is sending now."""
        specifier = request["reportSpecifier"]
        window_end = None
        interval = specifier.get("reportInterval")
        if interval and timefmt.parse_duration(interval["properties"]["duration"]):
            window_end = timefmt.add(timefmt.parse_datetime(interval["properties"]["dtstart"]),
                                     interval["properties"]["duration"])
        self.used_ids.add(request["reportRequestID"])
        self.requests[request["reportRequestID"]] = Requested(
            request["reportRequestID"], specifier["reportSpecifierID"],
            tuple(p["rID"] for p in specifier.get("specifierPayload") or ()),
            timefmt.parse_duration(specifier["reportBackDuration"]) == 0, window_end)

    def answered(self, request_ids: list[str], code: str) -> None:
        """The `emapCreatedReport` for these requests arrived: 200 confirms them, anything else drops them."""
        for request_id in request_ids:
            request = self.requests.get(request_id)
            if request is None:
                continue
            if code == "200":
                request.confirmed = True
            else:
                del self.requests[request_id]

    def active(self) -> list[str]:
        return list(self.requests)

    def cancelled(self, request_ids: list[str], report_to_follow: bool) -> None:
        """The upper EMA answered 200 to L's `emapCancelReport`."""
        for request_id in request_ids:
            if request_id in self.requests:
                if report_to_follow:
                    self.requests[request_id].final = True
                else:
                    del self.requests[request_id]

    # Messages from the upper EMA as reporter

    def check_metadata_answer(self, body: dict) -> None:
        """452 unless a top-level `reportRequestID` names a `METADATA` request of L (EMAP-6.4.2-06)."""
        request_id = body.get("reportRequestID")
        if request_id is None:
            return
        request = self.requests.get(request_id)
        if request is None or request.specifier_id != "METADATA":
            raise Refusal("452", f"reportRequestID {request_id!r} names no METADATA request of mine")

    def metadata_registered(self, body: dict) -> None:
        """The upper EMA's new metadata, accepted: requests naming withdrawn items end (EMAP-6.4.2-05)."""
        self.peer_metadata = body["emapReport"]
        if body.get("reportRequestID") is not None:
            self.requests.pop(body["reportRequestID"], None)
        offered = {r["reportSpecifierID"]: {d["rID"] for d in r["emapReportDescription"]}
                   for r in self.peer_metadata}
        for request_id, request in list(self.requests.items()):
            if request.specifier_id == "METADATA":
                continue
            if request.specifier_id not in offered or not set(request.rids) <= offered[request.specifier_id]:
                del self.requests[request_id]

    def check_update(self, body: dict) -> None:
        """452 unless every data report serves a request of L with its specifier and rIDs (EMAP-6.4.4-04)."""
        for report in body["emapReport"]:
            request = self.requests.get(report["reportRequestID"])
            if request is None or request.specifier_id == "METADATA":
                raise Refusal("452", f"reportRequestID {report['reportRequestID']!r} is not an active request "
                                     f"of mine")
            if report["reportSpecifierID"] != request.specifier_id:
                raise Refusal("452", f"reportSpecifierID {report['reportSpecifierID']!r} is not that of request "
                                     f"{request.request_id!r}")
            for interval in report["intervals"]["interval"]:
                for payload in interval.get("emapReportPayload") or ():
                    if request.rids and payload["rID"] not in request.rids:
                        raise Refusal("452", f"rID {payload['rID']!r} is not in request {request.request_id!r}")

    def updated(self, body: dict) -> None:
        """Accepted reports: a one-shot request, a final report after a cancel, or the report reaching the end
        of the window ends its request (EMAP-6.4.3-06/-07, EMAP-6.4.5-03)."""
        for report in body["emapReport"]:
            request = self.requests.get(report["reportRequestID"])
            if request is None:
                continue
            last = report["intervals"]["interval"][-1]
            end = timefmt.add(timefmt.parse_datetime(last["dtstart"]), last["duration"])
            reached = request.window_end is not None and end + timedelta(seconds=1) >= request.window_end
            if request.one_shot or request.final or reached:
                del self.requests[request.request_id]
