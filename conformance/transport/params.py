"""CoAP transmission parameters (RFC 7252 section 4.8) as configured by PIXIT timing, and their aiocoap form."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import aiocoap

MAX_LATENCY = 100.0


@dataclass(frozen=True)
class TransmissionParams:
    """ACK_TIMEOUT, ACK_RANDOM_FACTOR and MAX_RETRANSMIT; derived times follow RFC 7252 section 4.8.2."""

    ack_timeout: float = 2.0
    ack_random_factor: float = 1.5
    max_retransmit: int = 4

    def __post_init__(self):
        if self.ack_timeout <= 0 or self.ack_random_factor < 1 or self.max_retransmit < 0:
            raise ValueError(f"invalid CoAP transmission parameters: {self}")

    @property
    def max_transmit_span(self) -> float:
        return self.ack_timeout * (2 ** self.max_retransmit - 1) * self.ack_random_factor

    @property
    def max_transmit_wait(self) -> float:
        return self.ack_timeout * (2 ** (self.max_retransmit + 1) - 1) * self.ack_random_factor

    @property
    def exchange_lifetime(self) -> float:
        """MAX_TRANSMIT_SPAN + 2 * MAX_LATENCY + PROCESSING_DELAY (= ACK_TIMEOUT)."""
        return self.max_transmit_span + 2 * MAX_LATENCY + self.ack_timeout

    def tuning(self, confirmable: bool | None = True) -> aiocoap.TransportTuning:
        """An aiocoap TransportTuning instance with these parameters (CON when `confirmable`, NON when False);
        one shared instance per parameters and kind (aiocoap only reads it)."""
        return _tuning(self.ack_timeout, self.ack_random_factor, self.max_retransmit, confirmable)


@functools.lru_cache(maxsize=64)
def _tuning(ack_timeout: float, ack_random_factor: float, max_retransmit: int,
            confirmable: bool | None) -> aiocoap.TransportTuning:
    base = {True: aiocoap.Reliable, False: aiocoap.Unreliable, None: aiocoap.TransportTuning}[confirmable]
    tuned = type("TunedTransport", (base,), {
        "ACK_TIMEOUT": ack_timeout,
        "ACK_RANDOM_FACTOR": ack_random_factor,
        "MAX_RETRANSMIT": max_retransmit,
    })
    return tuned()
