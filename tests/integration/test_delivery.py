"""Remote delivery by MX (RFC 5321 5.1), retries and DSNs (RFC 3464).

A local nsd serves mail.test; remote peers are another petrel, Postfix's
smtp-sink and scripted servers, each on its own 127.0.0.x address and
the same port, which the sending petrel uses as delivery.remote_port."""

import shutil
import smtplib
import time

import pytest

from conftest import SLOW, Petrel, free_ports, make_home, wait_for
from dnsserver import Nsd
from peers import Scripted, Sink, parse_dsn, serve_normally

ZONE = """$ORIGIN mail.test.
$TTL 60
@       IN SOA ns.mail.test. hostmaster.mail.test. 1 3600 600 86400 60
@       IN NS ns
ns      IN A 127.0.0.1
down    IN A 127.0.0.2
up      IN A 127.0.0.3
sink1   IN A 127.0.0.4
sink2   IN A 127.0.0.5
hostile IN A 127.0.0.6
pref    IN MX 10 down
pref    IN MX 20 up
implicit IN A 127.0.0.3
nullmx  IN MX 0 .
equal   IN MX 10 sink1
equal   IN MX 10 sink2
noaddr  IN MX 10 ghost
noaddr  IN MX 20 up
ghost   IN TXT "a host without addresses"
nohost  IN MX 10 ghost
aliased IN MX 10 alias
alias   IN CNAME up
loop    IN MX 10 mx1
loop    IN MX 20 up
backup  IN MX 10 up
backup  IN MX 20 mx1
literal IN MX 10 127.0.0.3.
bad     IN MX 10 hostile
sink    IN MX 10 sink1
"""

RECEIVER_DOMAINS = ["pref.mail.test", "implicit.mail.test", "aliased.mail.test",
                    "backup.mail.test", "noaddr.mail.test", "literal.mail.test",
                    "loop.mail.test"]


@pytest.fixture(scope="module")
def dns():
    server = Nsd(zones=(), zone_texts={"mail.test": ZONE})
    yield server
    server.stop()


@pytest.fixture
def net(dns):
    """A sender petrel (mx1.mail.test) relaying for 127.0.0.0/8, and a
    port for the remote peers."""
    port = free_ports(1)[0]
    started = []

    def sender(extra="", delivery=None, **kwargs):
        settings = {"remote_port": port, "connect_timeout": "2s",
                    "greeting_timeout": "3s", "helo_timeout": "3s", "mail_timeout": "3s",
                    "rcpt_timeout": "3s", "data_timeout": "3s", "block_timeout": "3s",
                    "dot_timeout": "3s", "idle_time": "1s"}
        settings.update(delivery or {})
        yaml = ("dns: {servers: [\"%s\"], timeout_ms: 3000}\n" % dns.server +
                "delivery: {%s}\n" % ", ".join("%s: %s" % kv for kv in settings.items()))
        if "queue:" not in extra:
            yaml += "queue: {retry: [1s, 1s, 2s], retry_interval: 2s}\n"
        server = Petrel(make_home(), hostname="mx1.mail.test",
                        relay_networks=["127.0.0.0/8"],
                        extra_yaml=yaml + extra, **kwargs).start()
        started.append(server)
        return server

    def receiver(address="127.0.0.3", domains=RECEIVER_DOMAINS):
        users = ["u@" + d for d in domains]
        server = Petrel(make_home(), hostname="up.mail.test", domains=domains,
                        users=users, extra_listen=["%s:%d" % (address, port)]).start()
        started.append(server)
        return server

    yield port, sender, receiver
    for server in started:
        code = server.stop()
        server.check_log_clean()
        assert code in (0, None), server.read_log()[-3000:]
        shutil.rmtree(server.home, ignore_errors=True)


def send(server, rcpts, body="Subject: test\r\n\r\nhello\r\n", sender="alice@example.test",
         **kwargs):
    with smtplib.SMTP("127.0.0.1", server.plain_port) as s:
        s.sendmail(sender, rcpts, body, **kwargs)



def delivery_lines(server, to):
    return [line for line in server.read_log().splitlines()
            if "event=delivery " in line and "to=%s" % to in line]


def test_mx_preference_and_fallback(net):
    """The best MX (10, nothing listening) is tried first, then the next."""
    port, sender, receiver = net
    up = receiver()
    mx1 = sender()
    send(mx1, ["u@pref.mail.test"])
    assert len(up.wait_messages("u@pref.mail.test", 1, timeout=15)) == 1
    log = mx1.read_log()
    assert "event=connect-failed relay=down.mail.test[127.0.0.2]:%d" % port in log
    sent = delivery_lines(mx1, "u@pref.mail.test")
    assert sent and "relay=up.mail.test[127.0.0.3]:%d" % port in sent[-1]
    assert "status=sent" in sent[-1] and "dsn=2.0.0" in sent[-1]
    # Opportunistic TLS with the receiver, recorded in the log line.
    assert "tls=\"TLSv1.3" in sent[-1], sent[-1]
    assert "event=tls relay=up.mail.test" in log and "verified=no" in log
    assert wait_for(lambda: mx1.spool_files(journals=True) == [])


def test_implicit_mx_alias_and_literal(net):
    """No MX: the domain's own address. An MX that is a CNAME or an IP
    address: tolerated and logged."""
    port, sender, receiver = net
    up = receiver()
    mx1 = sender()
    send(mx1, ["u@implicit.mail.test", "u@aliased.mail.test", "u@literal.mail.test"])
    for rcpt in ("u@implicit.mail.test", "u@aliased.mail.test", "u@literal.mail.test"):
        assert len(up.wait_messages(rcpt, 1, timeout=15)) == 1, rcpt
    log = mx1.read_log()
    assert "event=mx-is-alias domain=aliased.mail.test host=alias.mail.test" in log
    assert "event=mx-is-address domain=literal.mail.test" in log


def test_mx_host_without_address_is_skipped(net):
    port, sender, receiver = net
    up = receiver()
    mx1 = sender()
    send(mx1, ["u@noaddr.mail.test"])
    assert len(up.wait_messages("u@noaddr.mail.test", 1, timeout=15)) == 1
    assert "event=mx-no-address domain=noaddr.mail.test host=ghost.mail.test" in \
        mx1.read_log()


def test_equal_preferences_spread(net):
    """Two MX hosts of equal preference both receive mail."""
    port, sender, _ = net
    sinks = [Sink("127.0.0.4", port), Sink("127.0.0.5", port)]
    try:
        # One message per connection, so that every one picks afresh.
        mx1 = sender(delivery={"reuse_messages": 1})
        for i in range(16):
            send(mx1, ["r%d@equal.mail.test" % i])
        assert wait_for(lambda: sum(len(s.messages()) for s in sinks) == 16)
        counts = [len(s.messages()) for s in sinks]
        assert min(counts) >= 2, counts
    finally:
        for s in sinks:
            s.cleanup()


def check_bounce(raw, rcpt, status, remote=None):
    msg, per_message, per_rcpt = parse_dsn(raw)
    assert msg["To"] == "<alice@example.test>"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert per_message["Reporting-MTA"] == "dns; mx1.mail.test"
    assert len(per_rcpt) == 1
    fields = per_rcpt[0]
    assert fields["Final-Recipient"] == "rfc822; " + rcpt
    assert fields["Action"] == "failed"
    assert fields["Status"] == status
    if remote:
        assert fields["Remote-MTA"] == "dns; " + remote
    return msg, fields


def test_null_mx_bounces_at_once(net):
    port, sender, _ = net
    mx1 = sender()
    send(mx1, ["x@nullmx.mail.test"])
    bounces = mx1.wait_messages("alice@example.test", 1, timeout=15)
    assert len(bounces) == 1
    msg, fields = check_bounce(bounces[0], "x@nullmx.mail.test", "5.1.10")
    assert "null MX" in fields["Diagnostic-Code"]
    # The returned message is attached whole (RET defaults to FULL).
    assert msg.get_payload()[2].get_content_type() == "message/rfc822"
    assert wait_for(lambda: mx1.spool_files(journals=True) == [])


def test_nxdomain_bounces_and_loop_bounces(net):
    """NXDOMAIN is permanent; being the best MX of a domain is a loop."""
    port, sender, _ = net
    mx1 = sender()
    send(mx1, ["x@nonexistent.mail.test"])
    send(mx1, ["x@loop.mail.test"])
    bounces = mx1.wait_messages("alice@example.test", 2, timeout=15)
    assert len(bounces) == 2
    statuses = sorted(parse_dsn(b)[2][0]["Status"] for b in bounces)
    assert statuses == ["5.1.2", "5.4.6"]


def test_backup_mx_relays_to_better_mx(net):
    """petrel listed at preference 20 relays to the preference-10 host,
    never to itself."""
    port, sender, receiver = net
    up = receiver()
    mx1 = sender(extra="relay_domains: [backup.mail.test]\n")
    send(mx1, ["u@backup.mail.test"])
    assert len(up.wait_messages("u@backup.mail.test", 1, timeout=15)) == 1


def test_permanent_failure_bounce_dsn(net):
    """A 5xx to RCPT: a bounce in the sender's Maildir, a valid
    multipart/report naming the remote MTA and its reply."""
    port, sender, _ = net
    sink = Sink("127.0.0.4", port, ["-f", "rcpt"])
    try:
        mx1 = sender()
        send(mx1, ["nobody@sink.mail.test"], body="Subject: doomed\r\n\r\nbody\r\n")
        bounces = mx1.wait_messages("alice@example.test", 1, timeout=15)
        assert len(bounces) == 1
        msg, fields = check_bounce(bounces[0], "nobody@sink.mail.test", "5.3.0",
                                   remote="sink1.mail.test")
        # smtp-sink -f says "500 5.3.0 Error: command failed".
        assert fields["Diagnostic-Code"].startswith("smtp; 500 5.3.0 Error")
        original = msg.get_payload()[2].get_payload()[0]
        assert original["Subject"] == "doomed"
        line = delivery_lines(mx1, "nobody@sink.mail.test")[-1]
        assert "status=bounced" in line
        assert wait_for(lambda: mx1.spool_files(journals=True) == [])
    finally:
        sink.cleanup()


def test_temporary_failure_then_retry_delivers(net):
    port, sender, _ = net
    sink = Sink("127.0.0.4", port, ["-r", "rcpt"])
    try:
        mx1 = sender()
        send(mx1, ["later@sink.mail.test"])
        assert wait_for(lambda: delivery_lines(mx1, "later@sink.mail.test"))
        assert "status=deferred" in delivery_lines(mx1, "later@sink.mail.test")[0]
        sink.cleanup()
        sink = Sink("127.0.0.4", port)
        assert wait_for(lambda: sink.messages(), timeout=20)
        # The sink has the message a moment before our log says so.
        assert wait_for(lambda: "status=sent" in
                        delivery_lines(mx1, "later@sink.mail.test")[-1])
        assert wait_for(lambda: mx1.spool_files(journals=True) == [])
        assert mx1.messages("alice@example.test") == []  # no DSN asked for
    finally:
        sink.cleanup()


def test_delay_dsn_once(net):
    port, sender, _ = net
    sink = Sink("127.0.0.4", port, ["-r", "rcpt"])
    try:
        mx1 = sender(extra="queue: {retry: [1s], retry_interval: 1s, delay_warning: 2s}\n")
        send(mx1, ["slow@sink.mail.test"])
        delays = mx1.wait_messages("alice@example.test", 1, timeout=20)
        assert len(delays) == 1
        msg, per_message, per_rcpt = parse_dsn(delays[0])
        assert per_rcpt[0]["Action"] == "delayed"
        assert per_rcpt[0]["Status"].startswith("4.")
        assert "Will-Retry-Until" in per_rcpt[0]
        # Header only for a delay notice.
        assert msg.get_payload()[2].get_content_type() == "text/rfc822-headers"
        time.sleep(4 * SLOW)  # more failed attempts: still one notice
        assert len(mx1.messages("alice@example.test")) == 1
        assert len(mx1.spool_files()) == 1
    finally:
        sink.cleanup()


def test_dsn_parameters(net):
    """NOTIFY=NEVER: no bounce. NOTIFY=SUCCESS to a server without DSN: a
    "relayed" notice from us; to a server with DSN: the parameters are
    passed on (xtext intact) and the notice is left to it."""
    port, sender, _ = net

    def with_dsn(c):
        serve_normally(c, extensions=("DSN",))

    server = Scripted("127.0.0.6", port, serve_normally)
    try:
        mx1 = sender()
        send(mx1, ["x@nullmx.mail.test"], rcpt_options=["NOTIFY=NEVER"])
        send(mx1, ["ok@bad.mail.test"], mail_options=["ENVID=env+2B1", "RET=HDRS"],
             rcpt_options=["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;orig@bad.mail.test"])
        notices = mx1.wait_messages("alice@example.test", 1, timeout=15)
        assert len(notices) == 1
        msg, per_message, per_rcpt = parse_dsn(notices[0])
        assert per_message["Original-Envelope-Id"] == "env+1"
        assert per_rcpt[0]["Action"] == "relayed"
        assert per_rcpt[0]["Original-Recipient"] == "rfc822;orig@bad.mail.test"
        server.stop()
        time.sleep(0.5)
        server = Scripted("127.0.0.6", port, with_dsn)
        send(mx1, ["ok2@bad.mail.test"], mail_options=["ENVID=env+2B2", "RET=FULL"],
             rcpt_options=["NOTIFY=SUCCESS", "ORCPT=rfc822;o+2Bx@bad.mail.test"])
        assert wait_for(lambda: "status=sent" in "".join(
            delivery_lines(mx1, "ok2@bad.mail.test")))
        sent = b"".join(c.received for c in server.transcripts)
        assert b"MAIL FROM:<alice@example.test> RET=FULL ENVID=env+2B2\r\n" in sent
        assert b"RCPT TO:<ok2@bad.mail.test> NOTIFY=SUCCESS " \
               b"ORCPT=rfc822;o+2Bx@bad.mail.test\r\n" in sent
        time.sleep(1 * SLOW)
        assert len(mx1.messages("alice@example.test")) == 1  # NEVER respected
    finally:
        server.stop()


def test_null_sender_never_gets_a_dsn(net):
    port, sender, _ = net
    mx1 = sender()
    send(mx1, ["x@nullmx.mail.test"], sender="")
    assert wait_for(lambda: "event=removed" in mx1.read_log())
    assert wait_for(lambda: mx1.spool_files(journals=True) == [])
    assert "event=dsn-queued" not in mx1.read_log()


def test_large_message_relayed_whole(net):
    """A message of several pieces (the spool is read 256 KB at a time on
    the queue's reader threads, never whole) arrives byte for byte: its
    header section, which the spool keeps apart from the body, first."""
    port, sender, receiver = net
    up = receiver()
    mx1 = sender()
    headers = "".join("X-Field-%03d: %s\r\n" % (i, "v" * 60) for i in range(300))
    lines = ["%07d %s" % (i, "w" * 70) for i in range(40000)]  # about 3 MB
    body = "Subject: large\r\n" + headers + "\r\n" + "\r\n".join(lines) + "\r\n"
    send(mx1, ["u@pref.mail.test"], body=body)
    [got] = up.wait_messages("u@pref.mail.test", 1, timeout=30)
    assert got.endswith(body.encode()), (len(got), len(body))
    # Before it: what the two servers prepend, nothing else.
    prefix = got[:len(got) - len(body)].decode()
    assert prefix.startswith("Return-Path: <alice@example.test>\r\n")
    assert prefix.count("Received: ") == 2
    sent = delivery_lines(mx1, "u@pref.mail.test")
    assert sent and "status=sent" in sent[-1]
