"""Port 0 binds: CoapServer takes a port no other socket holds (aiocoap's SO_REUSEPORT could share one)."""

import socket

from conformance.transport import CoapReply, CoapServer
from conformance.transport.ports import unshared_port


async def _ok(request):
    return CoapReply("2.04")


def test_unshared_port_is_free_for_a_plain_socket():
    port = unshared_port("127.0.0.1")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as plain:
        plain.bind(("127.0.0.1", port))  # fails if any socket held it


async def test_servers_bound_to_port_0_get_distinct_ports():
    servers = [await CoapServer.start(_ok) for _ in range(20)]
    try:
        ports = [server.address[1] for server in servers]
        assert len(set(ports)) == len(ports) and 0 not in ports
    finally:
        for server in servers:
            await server.stop()
