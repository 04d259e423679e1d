"""10,000 IDLE connections (issue 12): one worker holds them in a few KB
each, and a delivery still wakes an IDLE client within a second."""

import re
import resource
import socket
import time

import pytest

from conftest import SANITIZED, SLOW, worker_pids
from test_imap import deliver

USER = "test@example.test"
CONNECTIONS = 10000


def pss_kib(pid):
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


@pytest.mark.timeout(300)
def test_ten_thousand_idle_clients(make_petrel):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < CONNECTIONS + 500:
        pytest.fail("RLIMIT_NOFILE hard limit %d: the test needs %d" %
                    (hard, CONNECTIONS + 500))
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    limits = {"connections": 20000, "connections_per_ip": 20000}
    server = make_petrel(imap=True, auth={"plaintext_on_loopback": "true"},
                         listener_limits={"imap": limits})
    workers = worker_pids(server)
    before = sum(pss_kib(p) for p in workers)
    login = b"a LOGIN %s %s\r\nb SELECT INBOX\r\nc IDLE\r\n" % (
        USER.encode(), server.password.encode())
    socks = []
    try:
        for _ in range(CONNECTIONS):
            s = socket.create_connection(("127.0.0.1", server.imap_port), 10 * SLOW)
            s.recv(4096)
            s.sendall(login)
            buf = b""
            while b"+ idling" not in buf:
                chunk = s.recv(65536)
                assert chunk, buf
                buf += chunk
            socks.append(s)
        time.sleep(0.5)
        per = (sum(pss_kib(p) for p in workers) - before) / CONNECTIONS
        # (ASan's shadow memory and quarantine make this figure its own)
        assert SANITIZED or per < 7, "%.1f KB per IDLE connection" % per
        # A delivery: the last client (and every other) hears of it.
        watcher = socks[-1]
        watcher.settimeout(5 * SLOW)
        start = time.time()
        deliver(server)
        line = b""
        while b"\r\n" not in line:
            line += watcher.recv(4096)
        elapsed = time.time() - start
        assert line.startswith(b"* 1 EXISTS"), line
        assert elapsed < 1.0 * SLOW, elapsed
        first = socks[0]
        first.settimeout(5 * SLOW)
        assert first.recv(4096).startswith(b"* 1 EXISTS")
    finally:
        for s in socks:
            s.close()
    assert "level=error" not in server.read_log()
