"""The cached-repeat store of the front door (EMAP-7.1.5-07): bounded per peer, answers kept EXCHANGE_LIFETIME."""

from __future__ import annotations

import time

from conformance.ema.frontdoor import RemoteNames, RepeatCache

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


def test_expired_answers_and_silent_peers_are_swept():
    cache = RepeatCache(per_peer=4, peers=4, lifetime=60)
    cache.store("polls-only", ("EiOpt", "r", None), MESSAGE, REPLY)
    cache.store("busy", ("EiOpt", "r", None), MESSAGE, REPLY)
    assert len(cache) == 2
    cache.expire(time.monotonic() + 30)
    assert len(cache) == 2  # within the lifetime
    cache.expire(time.monotonic() + 61)
    assert len(cache) == 0 and not cache.lookup("busy", ("EiOpt", "r", None), MESSAGE)[0]


def test_a_sweep_runs_at_most_once_a_second():
    cache = RepeatCache(per_peer=4, peers=4, lifetime=0)
    cache.sweep()  # first sweep: nothing held
    cache.store("a", ("EiOpt", "r", None), MESSAGE, REPLY)
    cache.sweep()  # not due yet
    assert len(cache) == 1
    cache._next_sweep = 0.0  # a second later
    cache.sweep()
    assert len(cache) == 0


def test_remote_names_are_computed_once_per_address_and_bounded():
    class Remote:
        asked = 0

        def __init__(self, port):
            self.sockaddr = ("::ffff:127.0.0.1", port, 0, 0)

        @property
        def hostinfo(self):
            Remote.asked += 1
            return f"127.0.0.1:{self.sockaddr[1]}"

    names = RemoteNames(2)
    assert [names(Remote(p)) for p in (1, 1, 2, 1)] == ["127.0.0.1:1", "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:1"]
    assert Remote.asked == 2
    names(Remote(3))  # a third address: starts afresh
    assert names(Remote(1)) == "127.0.0.1:1" and Remote.asked == 4
