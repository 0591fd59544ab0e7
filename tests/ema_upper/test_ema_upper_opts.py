"""Sample upper EMA: opts (6.5) and Annex A opt change."""

from __future__ import annotations

from ema_upper_peer import code_of

from conformance.messages import build


async def _decided(upper, *, opt_change: bool, event_args: dict) -> tuple[str, dict]:
    """A pull-mode lower EMA (opt change asked or not) that received and answered event ``ev-1``."""
    ven_id = (await upper.register(opt_change=opt_change))["venID"]
    metadata = (await upper.poll(ven_id))["emapRegisterReport"]
    await upper.body("EiReport", build.registered_report(metadata["requestID"], ven_id))
    assert (await upper.stimulate("create-event", {"eventID": "ev-1", **event_args}))["status"] == "accepted"
    distribute = (await upper.poll(ven_id))["emapDistributeEvent"]
    return ven_id, distribute


def _change(ven_id, opt_id="o-1", **kw):
    return build.create_opt(
        f"co-{opt_id}",
        ven_id,
        opt_id,
        "optOut",
        event_id="ev-1",
        reason="overrideStatus",
        opt_change=True,
        **kw,
    )


async def test_opt_forms_and_cancel(upper):
    """EMAP-6.5.2-03 (454), -04 (462), -06, EMAP-6.5.3-01/-02."""
    ven_id = await upper.registered_pull()
    window = [("2030-01-01T00:00:00Z", "PT1H")]
    neither = build.create_opt("co-1", ven_id, "o-1", "optOut")
    assert code_of(await upper.body("EiOpt", neither)) == "454"
    foreign = build.create_opt(
        "co-2", ven_id, "o-1", "optOut", availability=window, target={"venID": ["other"]}
    )
    assert code_of(await upper.body("EiOpt", foreign)) == "462"
    schedule_change = build.create_opt("co-3", ven_id, "o-1", "optOut", availability=window, opt_change=True)
    assert code_of(await upper.body("EiOpt", schedule_change)) == "454"  # EMAP-A-05
    for n in (4, 5):  # the second create replaces the first
        ok = build.create_opt(f"co-{n}", ven_id, "o-1", "optIn", availability=window)
        assert (await upper.body("EiOpt", ok))["emapCreatedOpt"]["optID"] == "o-1"
    assert code_of(await upper.body("EiOpt", build.cancel_opt("xo-1", ven_id, "o-1"))) == "200"
    assert code_of(await upper.body("EiOpt", build.cancel_opt("xo-2", ven_id, "o-1"))) == "452"


async def test_opt_change_checks(upper):
    """EMAP-A-03, A-06 (451), A-07 (450 then 200), A-08; EMAP-6.5.2-05 stale modificationNumber 454."""
    ven_id, distribute = await _decided(
        upper, opt_change=True, event_args={"optChangeAllowed": True, "optChangeDeadline_s": 600}
    )
    event = distribute["emapEvent"][0]
    assert event["emapOptChangeAllowed"] is True and "emapOptChangeDeadline" in event
    assert code_of(await upper.body("EiOpt", _change(ven_id))) == "450"  # no decision yet
    rid = distribute["requestID"]
    answer = build.created_event(rid, ven_id, [build.event_response(rid, "ev-1", 0, "optIn")])
    assert code_of(await upper.body("EiEvent", answer)) == "200"
    stale = _change(ven_id, modification_number=3)
    assert code_of(await upper.body("EiOpt", stale)) == "454"
    assert code_of(await upper.body("EiOpt", _change(ven_id))) == "200"
    await upper.stimulate("cancel-event", {"eventID": "ev-1"})
    assert code_of(await upper.body("EiOpt", _change(ven_id, "o-2", modification_number=1))) == "451"


async def test_opt_change_not_accepted_or_not_allowed(upper):
    """EMAP-A-03: no opt-change members without acceptance; EMAP-A-06: 451."""
    ven_id, distribute = await _decided(upper, opt_change=False, event_args={"optChangeAllowed": True})
    assert "emapOptChangeAllowed" not in distribute["emapEvent"][0]
    assert code_of(await upper.body("EiOpt", _change(ven_id))) == "451"
