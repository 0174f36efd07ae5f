"""Outbound network blocking for every Python process the tests start.

The test session puts this folder first on ``PYTHONPATH`` (tests/conftest.py), so each child
Python (the CLI, the kill tests' syncs, ``dagster dev`` and its workers) imports it at start:
connections to anything but loopback fail at once with ``BlockedNetworkError``, as pytest-socket
does inside the test process itself. Unix sockets (the PostgreSQL and MariaDB sockets) work.
"""

from __future__ import annotations

import ipaddress
import os
import socket

if os.environ.get("RAGOPS_TEST_NETWORK_BLOCK") == "1":

    class BlockedNetworkError(OSError):
        """A test process tried to reach a host other than this machine."""

    _LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}

    def _is_local(address: object) -> bool:
        if not isinstance(address, tuple) or not address:
            return True  # a Unix socket path
        host = str(address[0])
        if host in _LOCAL_NAMES:
            return True
        try:
            return ipaddress.ip_address(host.split("%")[0]).is_loopback
        except ValueError:
            return False  # a host name other than localhost

    def _refuse(address: object) -> None:
        raise BlockedNetworkError(
            f"outbound network is blocked in test processes (tried {address!r}); only "
            "loopback is allowed"
        )

    _connect = socket.socket.connect
    _connect_ex = socket.socket.connect_ex

    def connect(self: socket.socket, address: object) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address):
            _refuse(address)
        _connect(self, address)  # type: ignore[arg-type]

    def connect_ex(self: socket.socket, address: object) -> int:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address):
            _refuse(address)
        return _connect_ex(self, address)  # type: ignore[arg-type]

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
