"""CoAP transport for the reference peer: codec, trace, wire tap, fault plans, client, server, raw sender, pcapng."""

from .client import CoapClient, CoapResponse, TransportError, TransportReset, TransportTimeout
from .codec import CoapDatagram, CodecError
from .faults import FaultPlan, FaultRule
from .params import TransmissionParams
from .raw import raw_exchange
from .server import CoapReply, CoapRequest, CoapServer
from .tap import WireTap
from .trace import FROM_IUT, TO_IUT, Exchange, Trace, TraceRecord

__all__ = [
    "FROM_IUT", "TO_IUT", "CoapClient", "CoapDatagram", "CoapReply", "CoapRequest", "CoapResponse", "CoapServer",
    "CodecError", "Exchange", "FaultPlan", "FaultRule", "Trace", "TraceRecord", "TransmissionParams",
    "TransportError", "TransportReset", "TransportTimeout", "WireTap", "raw_exchange",
]
