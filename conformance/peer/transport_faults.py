"""Exchange-level fault plans for the transport test cases (EMAP-7.1.5-01/-03/-04/-05/-08/-15).

``FaultPlan`` decides per datagram; these plans pick whole CoAP exchanges: every transmission (same Message ID and
token) of the first ``count`` Confirmable requests travelling one direction, optionally only those to a path ending
in ``path_suffix``, is dropped (the exchange fails), rejected with RST (it fails at once) or answered by the tap
with a crafted piggy-backed response (e.g. 5.03 with Max-Age, or 4.00). Deterministic: the decisions depend only on the datagram sequence.
"""

from __future__ import annotations

from conformance.transport import FaultPlan, codec
from conformance.transport.faults import FaultOutcome


class ExchangeFaults(FaultPlan):
    """Drop (``code`` None), reject with RST (``reset``) or answer with ``code`` (+ ``max_age``, ``payload``) the
    first ``count`` CON requests of ``direction`` matching ``path_suffix``; ``hits`` lists their (mid, token)."""

    def __init__(self, direction: str, *, count: int = 1, path_suffix: str | None = None, code: str | None = None,
                 max_age: int | None = None, payload: bytes = b"", reset: bool = False):
        super().__init__(seed=0)
        self.direction = direction
        self.reset = reset
        self.count = count
        self.path_suffix = path_suffix
        self.code = code
        self.max_age = max_age
        self.payload = payload
        self.hits: list[tuple[int, bytes]] = []

    def _selected(self, dg: codec.CoapDatagram) -> bool:
        if not dg.is_request or dg.mtype != codec.CON:
            return False
        if self.path_suffix is not None and not dg.path.endswith(self.path_suffix):
            return False
        key = (dg.mid, dg.token)
        if key in self.hits:
            return True
        if len(self.hits) >= self.count:
            return False
        self.hits.append(key)
        return True

    def decide(self, direction: str, data: bytes) -> FaultOutcome:
        out = FaultOutcome(bytes(data))
        if direction != self.direction:
            return out
        try:
            dg = codec.decode(data)
        except codec.CodecError:
            return out
        if not self._selected(dg):
            return out
        number = self.hits.index((dg.mid, dg.token)) + 1
        if self.reset:
            out.rst = True
            out.labels.append(f"rejected with RST by the tap (exchange {number} of {self.count})")
            return out
        if self.code is None:
            out.drop = True
            out.labels.append(f"dropped (exchange {number} of {self.count} made to fail)")
            return out
        options = () if self.max_age is None else ((codec.MAX_AGE, codec.uint_bytes(self.max_age)),)
        out.reply = codec.encode(codec.CoapDatagram(codec.ACK, codec.code_of(self.code), dg.mid, dg.token,
                                                    options, self.payload))
        out.labels.append(f"not delivered: the tap answers {self.code} (exchange {number} of {self.count})")
        return out


def client_tap(peer):
    """The WireTap between a reference peer's client and the IUT (None before the peer has started)."""
    return peer._client_tap


def server_tap(peer):
    """The WireTap in front of a reference peer's server side (None before ``serve``)."""
    return peer._server_tap
