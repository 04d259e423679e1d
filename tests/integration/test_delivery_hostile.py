"""The SMTP client against hostile or broken servers (issue 3's list):
each misbehaviour defers the message (nothing lost, the queue keeps
serving) and the next, well-behaved attempt delivers it."""

import time

import pytest

from conftest import SLOW
from peers import Scripted, serve_normally
from test_delivery import delivery_lines, dns, net, send, wait_for  # noqa: F401

RCPT = "u@bad.mail.test"


def first_then_normal(bad):
    """bad(c) for the first connection, a normal server afterwards."""
    state = {"n": 0}

    def handler(c):
        state["n"] += 1
        if state["n"] == 1:
            bad(c)
        else:
            serve_normally(c)
    return handler


def until(c, verb):
    """Plays a normal server until the client sends verb; returns its line."""
    c.send("220 hostile.mail.test ESMTP\r\n")
    while True:
        line = c.line()
        if line.upper().startswith(verb):
            return line
        if line.upper().startswith("EHLO"):
            c.send("250-hostile.mail.test\r\n250 PIPELINING\r\n")
        else:
            c.send("250 ok\r\n")


def run_case(net, bad, expect_log=None, extra="", delivery=None):
    port, sender, _ = net
    server = Scripted("127.0.0.6", port, first_then_normal(bad))
    try:
        mx1 = sender(extra=extra, delivery=delivery)
        send(mx1, [RCPT])
        assert wait_for(lambda: any("status=sent" in line
                                    for line in delivery_lines(mx1, RCPT)), timeout=20), \
            mx1.read_log()[-3000:]
        lines = delivery_lines(mx1, RCPT)
        assert "status=deferred" in lines[0], lines
        if expect_log:
            assert expect_log in mx1.read_log()
        assert wait_for(lambda: mx1.spool_files(journals=True) == [])
        return mx1, server
    finally:
        server.stop()


def test_421_at_banner(net):
    def bad(c):
        c.send("421 4.3.2 too busy\r\n")
    mx1, _ = run_case(net, bad, "greeting: 421 4.3.2 too busy")


def test_short_reply_lines(net):
    def bad(c):
        c.send("220 hostile ESMTP\r\n")
        c.line()
        c.send("250-x\r\n2\r\n")
        c.line()
    run_case(net, bad, "event=bad-reply")


def test_code_changes_mid_reply(net):
    def bad(c):
        c.send("220 hostile ESMTP\r\n")
        c.line()
        c.send("250-hostile\r\n251 PIPELINING\r\n")
        c.line()
    run_case(net, bad, "event=bad-reply")


def test_100k_reply_line(net):
    def bad(c):
        c.send("220 " + "x" * 100000 + "\r\n")
        time.sleep(1)
    run_case(net, bad, "event=bad-reply")


def test_close_after_rcpt_accepted(net):
    def bad(c):
        until(c, "RCPT")
        c.send("250 2.1.5 ok\r\n")
        c.close()
    run_case(net, bad)


def test_drop_after_data_before_final_reply(net):
    """Accepted DATA, then the connection drops before the final reply:
    retried, and the possible duplicate logged."""
    def bad(c):
        until(c, "DATA")
        c.send("354 go\r\n")
        c.data()
        c.close()
    mx1, server = run_case(net, bad, "event=possible-duplicate")
    assert server.connections >= 2


def test_hang_mid_data(net):
    def bad(c):
        until(c, "DATA")
        c.send("354 go\r\n")
        c.line()
        time.sleep(8 * SLOW)  # never answers: the client times out
    run_case(net, bad, "timeout waiting for end of data", delivery={"dot_timeout": "2s"})


def test_starttls_handshake_failure_falls_back_to_plaintext(net):
    def bad(c):
        c.send("220 hostile ESMTP\r\n")
        c.line()
        c.send("250-hostile\r\n250 STARTTLS\r\n")
        c.line()
        c.send("220 go ahead\r\n")
        c.send(b"\x15\x03\x03\x00\x02\x02\x28")  # a TLS alert, not a handshake
        time.sleep(0.5)

    port, sender, _ = net
    server = Scripted("127.0.0.6", port, first_then_normal(bad))
    try:
        mx1 = sender()
        send(mx1, [RCPT])
        assert wait_for(lambda: any("status=sent" in line
                                    for line in delivery_lines(mx1, RCPT)))
        log = mx1.read_log()
        assert "event=tls-failed" in log and "fallback=plaintext" in log
        assert 'tls=none' in delivery_lines(mx1, RCPT)[-1]
    finally:
        server.stop()


def test_starttls_required_never_plaintext(net):
    port, sender, _ = net
    server = Scripted("127.0.0.6", port, serve_normally)  # no STARTTLS offered
    try:
        mx1 = sender(delivery={"tls": "encrypt"})
        send(mx1, [RCPT])
        assert wait_for(lambda: delivery_lines(mx1, RCPT))
        assert "status=deferred" in delivery_lines(mx1, RCPT)[0]
        assert "TLS is required but STARTTLS not offered" in mx1.read_log()
        assert b"MAIL FROM" not in b"".join(c.received for c in server.transcripts)
    finally:
        server.stop()


def test_outbound_lines_are_clean(net):
    """A message accepted with a 3,000-octet line leaves with CRLF line
    ends only and no line over 998 octets; dots are stuffed."""
    port, sender, _ = net
    got = []

    def record(c):
        until(c, "DATA")
        c.send("354 go\r\n")
        start = len(c.received) - len(c.buffer)
        got.append((c, start))
        c.data()
        c.send("250 ok\r\n")
        c.line()

    server = Scripted("127.0.0.6", port, record)
    try:
        mx1 = sender(limits={"text_line": 5000})
        body = "Subject: long\r\n\r\n" + "a" * 3000 + "\r\n.leading dot\r\nend\r\n"
        send(mx1, [RCPT], body=body)
        assert wait_for(lambda: any("status=sent" in line
                                    for line in delivery_lines(mx1, RCPT)))
        c, start = got[0]
        wire = c.received[start:]
        assert wire.endswith(b"\r\n.\r\n")
        lines = wire.split(b"\r\n")
        assert all(b"\n" not in l and b"\r" not in l for l in lines)
        assert max(len(l) for l in lines) <= 998
        assert b"..leading dot" in wire
        runs = [l.lstrip(b" ") for l in lines if l and set(l.lstrip(b" ")) == {ord("a")}]
        assert len(runs) == 4 and sum(len(r) for r in runs) == 3000
    finally:
        server.stop()


def test_8bit_message_to_7bit_server_bounces(net):
    """BODY=8BITMIME content is never sent to a server without 8BITMIME."""
    port, sender, _ = net

    def seven_bit(c):
        serve_normally(c, extensions=("PIPELINING",))

    server = Scripted("127.0.0.6", port, seven_bit)
    try:
        mx1 = sender()
        send(mx1, [RCPT], body="Subject: caf\xc3\xa9\r\n\r\ncaf\xc3\xa9\r\n".encode("latin-1"),
             mail_options=["BODY=8BITMIME"])
        bounce = mx1.wait_messages("alice@example.test", 1, timeout=15)
        assert len(bounce) == 1 and b"Status: 5.6.3" in bounce[0]
        assert b"MAIL FROM" not in b"".join(c.received for c in server.transcripts)
    finally:
        server.stop()
