"""The cached-repeat store of the front door (EMAP-7.1.5-07): bounded per peer, answers kept EXCHANGE_LIFETIME."""

from __future__ import annotations

from conformance.ema.frontdoor import RepeatCache

MESSAGE = {"emapCancelOpt": {"requestID": "r-1", "optID": "o-1", "venID": "ven-1"}}
REPLY = {"emapCanceledOpt": {"eiResponse": {"responseCode": "200", "requestID": "r-1"}, "optID": "o-1"}}


def test_identical_repeat_is_answered_from_the_cache():
    cache = RepeatCache(per_peer=4, peers=4, lifetime=60)
    cache.store("ven-1", ("EiOpt", "r-1", None), MESSAGE, REPLY)
    assert cache.lookup("ven-1", ("EiOpt", "r-1", None), MESSAGE) == (True, REPLY)
    changed = {"emapCancelOpt": {**MESSAGE["emapCancelOpt"], "optID": "o-2"}}
    assert cache.lookup("ven-1", ("EiOpt", "r-1", None), changed) == (False, None)  # not identical
    assert cache.lookup("ven-2", ("EiOpt", "r-1", None), MESSAGE) == (False, None)  # another peer


def test_a_busy_peer_does_not_push_out_another_peers_answers():
    cache = RepeatCache(per_peer=2, peers=4, lifetime=60)
    cache.store("quiet", ("EiOpt", "q", None), MESSAGE, REPLY)
    for n in range(100):
        cache.store("busy", ("EiOpt", f"b-{n}", None), MESSAGE, REPLY)
    assert cache.lookup("quiet", ("EiOpt", "q", None), MESSAGE)[0]
    assert cache.lookup("busy", ("EiOpt", "b-99", None), MESSAGE)[0]
    assert not cache.lookup("busy", ("EiOpt", "b-97", None), MESSAGE)[0]  # beyond its own bound


def test_least_recently_heard_peer_goes_first_and_answers_expire():
    cache = RepeatCache(per_peer=2, peers=2, lifetime=60)
    for peer in ("a", "b", "c"):
        cache.store(peer, ("EiOpt", "r", None), MESSAGE, REPLY)
    assert not cache.lookup("a", ("EiOpt", "r", None), MESSAGE)[0]
    assert cache.lookup("c", ("EiOpt", "r", None), MESSAGE)[0]
    expired = RepeatCache(per_peer=2, peers=2, lifetime=0)
    expired.store("a", ("EiOpt", "r", None), MESSAGE, REPLY)
    assert not expired.lookup("a", ("EiOpt", "r", None), MESSAGE)[0]
