"""Free UDP ports that no other socket shares."""

from __future__ import annotations

import socket


def unshared_port(host: str) -> int:
    """A UDP port nobody holds right now. aiocoap binds its server sockets with SO_REUSEPORT, and the kernel may
    then give port 0 to two such sockets at once (measured: a few in 300 when two processes bind concurrently),
    so datagrams for one peer reach another; a port taken by a plain socket first is not shared."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
