"""pytest plugin of ``suite_efficiency.py``: measures how long the suite process waits.

Loaded with ``-p idle_meter`` (benchmarks/ on PYTHONPATH). It times every blocking ``select`` of the event
loop's selector, which is where the suite waits for protocol timers, observation windows and the IUT's
answers, and at session end appends ``{"session_s", "idle_s", "tests"}`` as one JSON line to the file named by
$EMAP_IDLE_METER_OUT.
"""

from __future__ import annotations

import json
import os
import selectors
import time

_idle = [0.0]
_started = [time.monotonic()]


def _timed(select):
    def timed_select(self, timeout=None):
        began = time.monotonic()
        try:
            return select(self, timeout)
        finally:
            _idle[0] += time.monotonic() - began

    return timed_select


for _cls in {selectors.DefaultSelector, selectors.EpollSelector, selectors.SelectSelector}:
    _cls.select = _timed(_cls.select)


def pytest_sessionstart(session):
    _started[0] = time.monotonic()
    _idle[0] = 0.0


def pytest_sessionfinish(session, exitstatus):
    out = os.environ.get("EMAP_IDLE_METER_OUT")
    if out:
        with open(out, "a", encoding="utf-8") as sink:
            sink.write(
                json.dumps(
                    {
                        "session_s": time.monotonic() - _started[0],
                        "idle_s": _idle[0],
                        "tests": session.testscollected,
                    }
                )
                + "\n"
            )
