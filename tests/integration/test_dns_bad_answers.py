"""Bad DNS answers, from a scripted server (dnsscripted.py): truncated,
oversized without EDNS, malformed, with a wrong ID, or never coming;
SERVFAIL (temporary: the mail waits) against NXDOMAIN (permanent: it
bounces). First through `petrel dns lookup`, then end to end through the
queue."""

import os
import shutil
import subprocess
import time

import pytest

from conftest import PETREL, SLOW, Petrel, free_ports, make_home, wait_for
from dnsscripted import A, MX, ScriptedDns, a_rdata, mx_rdata
from peers import Sink, parse_dsn


@pytest.fixture
def bad_dns():
    server = ScriptedDns("bad.test")
    yield server
    server.stop()


def lookup(bad_dns, name, rtype="A", yaml=""):
    """`petrel dns lookup` with a config naming the scripted server."""
    home = make_home()
    config = os.path.join(home, "dns.yaml")
    with open(config, "w") as f:
        f.write('dns: {servers: ["%s"], timeout_ms: 1500%s}\n' % (bad_dns.server, yaml))
    started = time.time()
    out = subprocess.run([PETREL, "-c", config, "dns", "lookup", name, rtype],
                         capture_output=True, text=True, timeout=30)
    shutil.rmtree(home, ignore_errors=True)
    return out.returncode, out.stdout, out.stderr, time.time() - started


def addresses(count, prefix="192.0.2."):
    return [(A, a_rdata("%s%d" % (prefix, i))) for i in range(1, count + 1)]


def test_truncated_udp_answer_is_retried_over_tcp(bad_dns):
    bad_dns.behave("trunc.bad.test", "truncated", rrs=addresses(60))
    code, out, err, _ = lookup(bad_dns, "trunc.bad.test")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 60 and all("\tIN\tA\t192.0.2." in line for line in lines)
    assert [q[0] for q in bad_dns.asked("trunc.bad.test")][:2] == ["udp", "tcp"]


def test_oversized_udp_answer_without_edns_is_taken_whole(bad_dns):
    """Over 512 octets by UDP with no OPT record (RFC 1035 says 512 at
    most): within the buffer petrel advertised, so it is used whole,
    never silently cut, and no TCP retry is needed."""
    bad_dns.behave("big.bad.test", "normal", rrs=addresses(60))
    bad_dns.behave("huge.bad.test", "normal", rrs=addresses(250, "10.0.0."))
    code, out, err, _ = lookup(bad_dns, "big.bad.test")
    assert code == 0, err
    assert len(out.splitlines()) == 60  # about 1,000 octets on the wire
    assert [q[0] for q in bad_dns.asked("big.bad.test")] == ["udp"]
    code, out, err, _ = lookup(bad_dns, "huge.bad.test")
    assert code == 0, err
    assert len(out.splitlines()) == 250  # about 4,000 octets


def test_malformed_answer_is_servfail_after_retries(bad_dns):
    """A header promising two answers, then a compression pointer into
    nowhere and a record running past the end: SERVFAIL (2), temporary,
    after dns.retries more tries."""
    bad_dns.behave("garbage.bad.test", "malformed")
    code, out, err, _ = lookup(bad_dns, "garbage.bad.test")
    assert code == 2 and out == ""
    assert "SERVFAIL (2): garbage.bad.test" in err
    assert len(bad_dns.asked("garbage.bad.test")) == 5  # 1 + the default 4
    before = len(bad_dns.asked("garbage.bad.test"))
    code, _, err, _ = lookup(bad_dns, "garbage.bad.test", yaml=", retries: 1")
    assert code == 2, err
    assert len(bad_dns.asked("garbage.bad.test")) - before == 2


def test_answer_with_wrong_id_is_ignored(bad_dns):
    """A reply with another ID (a spoofing attempt, say) is dropped; the
    real answer that follows is used."""
    bad_dns.behave("wrong.bad.test", "wrong_id", rrs=[(A, a_rdata("192.0.2.1"))],
                   decoy=[(A, a_rdata("203.0.113.66"))], delay=0.3)
    code, out, err, _ = lookup(bad_dns, "wrong.bad.test")
    assert code == 0, err
    assert "192.0.2.1" in out and "203.0.113.66" not in out


def test_answer_that_never_comes_times_out(bad_dns):
    bad_dns.behave("quiet.bad.test", "silent")
    code, out, err, elapsed = lookup(bad_dns, "quiet.bad.test")
    assert code == 101 and "TIMEOUT (101): quiet.bad.test" in err
    assert 1.4 < elapsed < 10 * SLOW
    assert len(bad_dns.asked("quiet.bad.test")) >= 2  # retransmitted meanwhile


def test_servfail_and_nxdomain_codes(bad_dns):
    bad_dns.behave("fail.bad.test", "servfail")
    code, _, err, _ = lookup(bad_dns, "fail.bad.test", "MX")
    assert code == 2 and "SERVFAIL (2)" in err
    code, _, err, _ = lookup(bad_dns, "gone.bad.test", "MX")
    assert code == 3 and "NXDOMAIN (3)" in err


# -- end to end: what the queue does with each


@pytest.fixture
def mail(bad_dns):
    """A sending petrel whose resolver is the scripted server, and a
    smtp-sink on 127.0.0.4 as the destination when DNS behaves."""
    port = free_ports(1)[0]
    sink = Sink("127.0.0.4", port)
    yaml = ('dns: {servers: ["%s"], timeout_ms: 1500, retries: 1}\n' % bad_dns.server +
            "delivery: {remote_port: %d, connect_timeout: 2s}\n" % port +
            "queue: {retry: [1s], retry_interval: 1s}\n")
    server = Petrel(make_home(), hostname="mx1.mail.test", relay_networks=["127.0.0.0/8"],
                    extra_yaml=yaml).start()
    bad_dns.behave("sink.bad.test", "normal", rrs=[(A, a_rdata("127.0.0.4"))])
    yield server, sink
    code = server.stop()
    server.check_log_clean()
    assert code in (0, None)
    shutil.rmtree(server.home, ignore_errors=True)
    sink.cleanup()


def send(server, rcpts):
    import smtplib
    with smtplib.SMTP("127.0.0.1", server.plain_port) as s:
        s.sendmail("alice@example.test", rcpts, "Subject: dns\r\n\r\nhello\r\n")



def delivery_lines(server, to):
    return [line for line in server.read_log().splitlines()
            if "event=delivery " in line and "to=%s" % to in line]


def test_servfail_waits_and_nxdomain_bounces(mail, bad_dns):
    """One message, two recipients: SERVFAIL defers its recipient (4.4.3)
    and it is delivered once DNS recovers; NXDOMAIN bounces its own
    (5.1.2) at once. Each recipient's fate is its own."""
    server, sink = mail
    bad_dns.behave("flaky.bad.test", "servfail")
    send(server, ["u@flaky.bad.test", "u@gone.bad.test"])
    bounces = server.wait_messages("alice@example.test", 1, timeout=15)
    assert len(bounces) == 1
    _, _, recipients = parse_dsn(bounces[0])
    assert [(r["Final-Recipient"], r["Status"]) for r in recipients] == \
        [("rfc822; u@gone.bad.test", "5.1.2")]
    assert wait_for(lambda: any("status=deferred" in line and "dsn=4.4.3" in line
                                for line in delivery_lines(server, "u@flaky.bad.test")))
    assert sink.messages() == []
    # Retried, not cached: every attempt asks again.
    assert wait_for(lambda: len(bad_dns.asked("flaky.bad.test")) >= 4)
    assert server.spool_files() != []
    bad_dns.behave("flaky.bad.test", "normal", rrs=[(MX, mx_rdata(10, "sink.bad.test"))])
    assert wait_for(lambda: len(sink.messages()) == 1)
    assert "status=sent" in delivery_lines(server, "u@flaky.bad.test")[-1]
    assert wait_for(lambda: server.spool_files(journals=True) == [])
    assert len(server.messages("alice@example.test")) == 1  # no second bounce


@pytest.mark.parametrize("kind", ["silent", "malformed"])
def test_broken_dns_defers_never_bounces(mail, bad_dns, kind):
    server, sink = mail
    bad_dns.behave("broken.bad.test", kind)
    send(server, ["u@broken.bad.test"])
    assert wait_for(lambda: any("status=deferred" in line and "dsn=4.4.3" in line
                                for line in delivery_lines(server, "u@broken.bad.test")),
                    timeout=20)
    assert server.messages("alice@example.test") == []
    assert server.spool_files() != []


def test_truncated_mx_answer_still_delivers(mail, bad_dns):
    """Enough MX records to overflow UDP: TC=1, then TCP, then delivery to
    the best of them."""
    server, sink = mail
    mxs = [(MX, mx_rdata(10, "sink.bad.test"))] + \
        [(MX, mx_rdata(20 + i, "backup%d.bad.test" % i)) for i in range(40)]
    bad_dns.behave("many.bad.test", "truncated", rrs=mxs)
    send(server, ["u@many.bad.test"])
    assert wait_for(lambda: len(sink.messages()) == 1)
    assert bad_dns.asked("many.bad.test", "tcp")
