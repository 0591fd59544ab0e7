"""The lower EMA's decisions without the network: Table 6.3-4, EMAP-6.3.2-06/-07/-09/-11/-12, and the reporter's
checks of EMAP-6.4.3-02 to -05 and EMAP-6.4.5-02 in the order 452, 454, 461."""

from __future__ import annotations

import pytest

from conformance.ema.lower.events import EventBook, Identity
from conformance.ema.lower.reporter import Refusal, Reporter
from conformance.ema.lower.state import Link
from conformance.messages import build, validate

LINK = Link("reg-1", "ven-7", "vtn-1", pull=True, poll_freq=1.0)


def _answer(book, events, vtn="vtn-1", request_id="de-1", **kw):
    envelope = build.distribute_event(request_id, vtn, events)
    reply = book.answer(validate(envelope).body, LINK, **kw)
    validate(reply)  # every answer is a valid message
    return reply


def _responses(reply):
    return [(r["qualifiedEventID"]["eventID"], r["responseCode"], r["optType"])
            for r in reply["emapCreatedEvent"]["eiCreatedEvent"]["eventResponses"]["eventResponse"]]


def test_table_6_3_4_rows():
    book = EventBook(Identity(resource_ids=("heatpump-1",), signals=("ELECTRICITY_PRICE",)))
    price = build.signal([("PT1H", 0.3)], name="ELECTRICITY_PRICE", signal_type="price",
                         item_base=build.item_base("currencyPerKWh"))
    reply = _answer(book, [
        build.event("ev-cancel-unknown", status="cancelled"),
        build.event("ev-ok", target={"resourceID": ["heatpump-1"]}),
        build.event("ev-price", signals=[price]),
        build.event("ev-signal", signals=[build.signal([("PT1H", 1)], name="BID_LOAD", signal_type="setpoint")]),
        build.event("ev-target", target={"venID": ["ven-other"]}),
        build.event("ev-never", response_required="never"),
    ])
    assert _responses(reply) == [("ev-cancel-unknown", "200", "optIn"), ("ev-ok", "200", "optIn"),
                                 ("ev-price", "200", "optIn"), ("ev-signal", "460", "optOut"),
                                 ("ev-target", "462", "optOut")]
    reply = _answer(book, [build.event("ev-ok", modification_number=1), build.event("ev-target", status="cancelled",
                                                                                    modification_number=1)],
                    request_id="de-2")
    assert _responses(reply) == [("ev-ok", "200", "optIn"), ("ev-target", "200", "optOut")]
    reply = _answer(book, [build.event("ev-ok", modification_number=0)], request_id="de-3")
    assert _responses(reply) == [("ev-ok", "454", "optOut")]


def test_vtn_mismatch_never_only_and_repeats():
    book = EventBook(Identity(market_contexts=("http://example.com/programs/peak",)))
    reply = _answer(book, [build.event("ev-1")], vtn="vtn-x")
    body = reply["emapCreatedEvent"]["eiCreatedEvent"]
    assert body["eiResponse"]["responseCode"] == "452" and "eventResponses" not in body
    assert "ev-1" not in book.records
    reply = _answer(book, [build.event("ev-n", response_required="never")])
    assert reply == build.response("de-1", "200", ven_id="ven-7")
    reply = _answer(book, [build.event("ev-m")])  # undeclared market context (EMAP-6.3.2-11)
    assert _responses(reply) == [("ev-m", "200", "optOut")]
    book.opt_accepted("ev-m", 0, "optIn")  # an accepted opt with eiTarget {} (EMAP-6.3.2-09)
    assert _responses(_answer(book, [build.event("ev-m")], request_id="de-4")) == [("ev-m", "200", "optIn")]


def test_implicit_cancel_and_reply_limit():
    book = EventBook(Identity())
    _answer(book, [build.event("ev-1"), build.event("ev-2")])
    _answer(book, [build.event("ev-1")], request_id="de-2", partial=True)
    assert not book.records["ev-2"].cancelled
    _answer(book, [build.event("ev-1")], request_id="de-3")
    assert book.records["ev-2"].cancelled and not book.records["ev-1"].cancelled


def _create(reporter, *requests, ven="ven-7"):
    return reporter.create(validate(build.create_report("cr-1", ven, list(requests))).body)


@pytest.mark.parametrize(("requests", "code"), [
    ([build.report_request("rq-1", "rs-nope", ["x"])], "452"),
    ([build.report_request("rq-1", "rs-usage", ["status-1"])], "452"),
    ([build.report_request("0", "rs-usage", ["power-1"])], "454"),
    ([build.report_request("rq-1", "rs-usage", ["power-1"]), build.report_request("rq-1", "METADATA")], "454"),
    ([build.report_request("rq-1", "rs-history", ["energy-h"], granularity="PT1M")], "454"),
    ([build.report_request("rq-1", "rs-usage", ["power-1"], granularity="PT2H")], "461"),
    ([build.report_request("rq-1", "METADATA", back_duration="PT1M")], "461"),
    ([build.report_request("rq-1", "rs-usage", ["power-1"], back_duration="PT0.1S")], "461"),
    ([build.report_request("rq-1", "rs-usage", ["power-1"], granularity="PT1S", back_duration="P1W")], "461"),
    ([build.report_request("rq-1", "rs-usage", ["power-1"], granularity="PT2H"),
      build.report_request("rq-2", "rs-nope", ["x"])], "452"),
])
def test_create_report_refusals(requests, code):
    reporter = Reporter()
    reporter.publish()
    with pytest.raises(Refusal) as refused:
        _create(reporter, *requests)
    assert refused.value.code == code
    assert reporter.pending() == []


def test_create_report_reuse_and_cancel():
    reporter = Reporter()
    reporter.publish()
    assert _create(reporter, build.report_request("rq-1", "rs-usage", ["power-1"], granularity="PT1M",
                                                  back_duration="PT2M")) == ["rq-1"]
    with pytest.raises(Refusal) as refused:
        _create(reporter, build.report_request("rq-1", "rs-status", ["status-1"]))
    assert refused.value.code == "454"
    with pytest.raises(Refusal):
        reporter.cancel({"reportRequestID": ["rq-1", "rq-9"], "reportToFollow": False})
    assert reporter.pending() == ["rq-1"]
    reporter.cancel({"reportRequestID": ["rq-1"], "reportToFollow": True})
    reporter.started(["rq-1"])
    [(serving, report)] = reporter.take_due(float("inf"))
    assert report["reportRequestID"] == "rq-1" and reporter.pending() == []
