"""Outbound network is blocked in the test process (pytest-socket) and in every Python process
the tests start (tests/netblock/sitecustomize.py): loopback still works."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest


def _child(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_a_child_process_cannot_reach_the_internet() -> None:
    result = _child(
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('93.184.215.14', 80), timeout=5)\n"
        "except OSError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("BlockedNetworkError outbound network is blocked")


def test_a_child_process_cannot_resolve_and_reach_a_host_by_name() -> None:
    result = _child(
        "import urllib.request\n"
        "try:\n"
        "    urllib.request.urlopen('http://203.0.113.7/', timeout=5)\n"
        "except OSError as exc:\n"
        "    print('blocked' if 'blocked' in str(exc) else f'other: {exc!r}')\n"
    )
    assert result.stdout.strip() == "blocked", result.stdout + result.stderr


def test_a_child_process_still_reaches_loopback() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        result = _child(
            f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=5).close()\n"
            "print('connected')\n"
        )
        assert result.stdout.strip() == "connected", result.stderr


@pytest.mark.filterwarnings("ignore:A test tried to use socket")
def test_this_process_cannot_reach_the_internet_either() -> None:
    from pytest_socket import SocketConnectBlockedError

    with pytest.raises(SocketConnectBlockedError):
        socket.create_connection(("93.184.215.14", 80), timeout=5)
