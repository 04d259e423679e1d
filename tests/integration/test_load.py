"""Connection exhaustion: 1,000 idle sessions held open must not stop a
new client from being served promptly; per-IP limits answer 421."""

import smtplib
import time

from conftest import SLOW, connect_from, read_line

IDLE = 1000
PER_IP = 20


def test_thousand_idle_sessions_and_per_ip_limit(make_petrel):
    server = make_petrel(limits={"connections_per_ip": PER_IP, "connections": 2000})
    idle = []
    try:
        # 1,000 sessions from 50 source addresses, PER_IP each: at the limit.
        for i in range(IDLE):
            ip = "127.0.1.%d" % (1 + i // PER_IP)
            idle.append(connect_from(ip, server.plain_port))
        for s in idle:
            assert read_line(s).startswith(b"220 ")
        # A new client is served promptly, end to end.
        start = time.monotonic()
        with smtplib.SMTP("127.0.0.1", server.plain_port, timeout=10) as c:
            c.ehlo("client.test")
            c.sendmail("s@client.test", ["test@example.test"], "Subject: x\r\n\r\nx\r\n")
        elapsed = time.monotonic() - start
        assert elapsed < 1.0 * SLOW, "new client took %.3fs" % elapsed
        # One more from an address already at its limit: refused with 421.
        extra = connect_from("127.0.1.1", server.plain_port)
        assert read_line(extra) == b"421 4.7.0 Too many connections from your address\r\n"
        assert extra.recv(1) == b""
        extra.close()
        # Closing one frees its slot for that address.
        idle.pop(0).close()
        time.sleep(0.2)
        again = connect_from("127.0.1.1", server.plain_port)
        assert read_line(again).startswith(b"220 ")
        again.close()
        assert len(server.wait_messages("test@example.test", 1)) == 1
    finally:
        for s in idle:
            s.close()


def test_total_connection_limit(make_petrel):
    server = make_petrel(limits={"connections": 10, "connections_per_ip": 100})
    # The harness's readiness probe is a session too: let it end first.
    server.wait_log("event=disconnect")
    held = [connect_from("127.0.0.1", server.plain_port) for _ in range(10)]
    try:
        for s in held:
            assert read_line(s).startswith(b"220 ")
        extra = connect_from("127.0.0.1", server.plain_port)
        assert read_line(extra) == b"421 4.3.2 Too many connections, try again later\r\n"
        extra.close()
    finally:
        for s in held:
            s.close()
