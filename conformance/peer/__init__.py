"""The reference peer: plays the counterpart EMA of the IUT, every datagram through a WireTap into the trace.

- ``PeerBase`` (base.py): role-neutral machinery (client through a tap, server side behind a tap, inbox, IDs).
- ``LowerPeer`` (lower.py): one lower EMA against an upper-EMA IUT.
"""

from conformance.peer.base import Inbound, PeerBase, PeerError, Posted, parse_base_uri
from conformance.peer.ids import IdSource
from conformance.peer.lower import DEFAULT, LowerPeer, telemetry_metadata

__all__ = ["DEFAULT", "IdSource", "Inbound", "LowerPeer", "PeerBase", "PeerError", "Posted", "parse_base_uri",
           "telemetry_metadata"]
