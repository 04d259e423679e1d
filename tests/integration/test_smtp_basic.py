"""The straight line: real clients send over plain, STARTTLS and implicit
TLS; messages land in Maildir with the headers we promise."""

import email
import os
import re
import smtplib
import ssl
import subprocess

from conftest import PETREL, QUEUED, Raw, client_tls_context


MESSAGE = b"From: a@client.test\r\nTo: test@example.test\r\nSubject: hi\r\n\r\nbody\r\n"


def test_smtplib_plain(petrel):
    with smtplib.SMTP("127.0.0.1", petrel.plain_port) as s:
        code, banner = s.ehlo("client.test")
        assert code == 250
        features = banner.decode()
        for ext in ["PIPELINING", "SIZE 52428800", "8BITMIME", "ENHANCEDSTATUSCODES",
                    "SMTPUTF8", "CHUNKING"]:
            assert ext in features
        assert "STARTTLS" not in features  # this listener has tls: none
        refused = s.sendmail("sender@client.test", ["test@example.test"], MESSAGE)
        assert refused == {}
    msgs = petrel.wait_messages("test@example.test", 1)
    assert len(msgs) == 1
    msg = email.message_from_bytes(msgs[0])
    assert msg["Return-Path"] == "<sender@client.test>"
    assert msg["Delivered-To"] == "test@example.test"
    assert "by mx.example.test (petrel) with ESMTP id" in msg["Received"]
    assert msg.get_payload() == "body\r\n"
    # Maildir: tmp, new, cur exist; name carries the size.
    box = petrel.mailbox("test@example.test")
    assert sorted(os.listdir(box)) == ["cur", "new", "tmp"]
    name = os.listdir(os.path.join(box, "new"))[0]
    assert name.endswith(",S=%d,W=%d" % (len(msgs[0]), len(msgs[0])))
    # The spool entry is retired once delivered.
    assert petrel.wait_spool_empty() == []


def test_smtplib_starttls(petrel):
    with smtplib.SMTP("127.0.0.1", petrel.smtp_port) as s:
        s.ehlo("client.test")
        assert s.has_extn("starttls")
        s.starttls(context=client_tls_context())
        s.ehlo("client.test")
        assert not s.has_extn("starttls")
        s.sendmail("sender@client.test", ["alice@example.test"], MESSAGE)
    msg = email.message_from_bytes(petrel.wait_messages("alice@example.test", 1)[0])
    received = msg["Received"]
    assert "with ESMTPS id" in received
    assert re.search(r"using TLSv1\.[23] with cipher \S+", received), received


def test_smtplib_implicit_tls(petrel):
    with smtplib.SMTP_SSL("127.0.0.1", petrel.smtps_port, context=client_tls_context()) as s:
        s.ehlo("client.test")
        assert not s.has_extn("starttls")
        s.sendmail("", ["bob@example.test"], MESSAGE)
    msg = email.message_from_bytes(petrel.wait_messages("bob@example.test", 1)[0])
    assert msg["Return-Path"] == "<>"
    assert "with ESMTPS" in msg["Received"]


def test_queue_id_reply_and_log(petrel):
    c = Raw(petrel.plain_port)
    assert c.banner == ["220 mx.example.test ESMTP petrel"]
    for line, code in [("EHLO client.test", "250"), ("MAIL FROM:<s@client.test>", "250"),
                       ("RCPT TO:<test@example.test>", "250"), ("DATA", "354")]:
        assert c.cmd(line)[-1][:3] == code
    reply = c.cmd(b"Subject: x\r\n\r\nhello\r\n.\r\n")
    m = QUEUED.match(reply[-1])
    assert m, reply
    assert c.cmd("QUIT") == ["221 2.0.0 Bye"]
    petrel.wait_messages("test@example.test", 1)
    log = petrel.wait_log("event=delivery id=%s" % m.group(1))
    assert "event=queued" in log and "id=" + m.group(1) in log
    line = [l for l in log.splitlines() if "event=delivery id=%s" % m.group(1) in l][0]
    assert "relay=local" in line and "status=sent" in line and "dsn=2.0.0" in line


def test_swaks_starttls_and_implicit(petrel):
    for args in (["--tls"], ["--tls-on-connect"]):
        port = petrel.smtp_port if args == ["--tls"] else petrel.smtps_port
        out = subprocess.run(
            ["swaks", "--server", "127.0.0.1:%d" % port, "--to", "test@example.test",
             "--from", "swaks@client.test", "--helo", "client.test"] + args,
            capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "250 2.0.0 Ok: queued as" in out.stdout
    assert len(petrel.wait_messages("test@example.test", 2)) == 2


def test_openssl_s_client_starttls(petrel):
    script = (b"EHLO client.test\r\n")
    out = subprocess.run(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % petrel.smtp_port,
         "-starttls", "smtp", "-quiet", "-ign_eof"],
        input=script + b"QUIT\r\n", capture_output=True, timeout=30)
    text = out.stdout.decode()
    assert "250-mx.example.test" in text
    assert "221 2.0.0 Bye" in text
    # TLS 1.1 and older are refused.
    old = subprocess.run(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % petrel.smtps_port,
         "-tls1_1"], input=b"", capture_output=True, timeout=30)
    assert old.returncode != 0


def test_bdat_message(petrel):
    c = Raw(petrel.plain_port)
    c.cmd("EHLO client.test")
    c.cmd("MAIL FROM:<s@client.test>")
    c.cmd("RCPT TO:<test@example.test>")
    part1 = b"Subject: chunks\r\n\r\nline one\r\n"
    part2 = b".\r\n.leading dot kept\r\n"
    assert c.cmd(b"BDAT %d\r\n" % len(part1) + part1)[-1].startswith("250 2.0.0")
    assert QUEUED.match(c.cmd(b"BDAT %d LAST\r\n" % len(part2) + part2)[-1])
    body = petrel.wait_messages("test@example.test", 1)[0]
    assert body.endswith(part1 + part2)


def test_plus_addressing_and_postmaster(petrel):
    with smtplib.SMTP("127.0.0.1", petrel.plain_port) as s:
        s.ehlo("client.test")
        s.sendmail("s@client.test", ["test+lists@example.test"], MESSAGE)
        code, _ = s.docmd("MAIL FROM:<s@client.test>")
        assert code == 250
        code, _ = s.docmd("RCPT TO:<Postmaster>")
        assert code == 250
    msgs = petrel.wait_messages("test@example.test", 1)
    assert b"Delivered-To: test+lists@example.test" in msgs[0]


def test_pipelined_transaction(petrel):
    c = Raw(petrel.plain_port)
    c.cmd("EHLO client.test")
    c.send(b"MAIL FROM:<s@client.test>\r\nRCPT TO:<test@example.test>\r\n"
           b"RCPT TO:<nobody@example.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n")
    assert c.code() == "250"
    assert c.code() == "250"
    assert c.reply() == ["550 5.1.1 <nobody@example.test>: Recipient address rejected: "
                         "User unknown"]
    assert c.code() == "250"
    assert c.code() == "354"
    assert QUEUED.match(c.cmd(b"x\r\n.\r\n")[-1])
    assert len(petrel.wait_messages("test@example.test", 1)) == 1
    assert len(petrel.wait_messages("alice@example.test", 1)) == 1


def test_vrfy_help_noop_rset(petrel):
    c = Raw(petrel.plain_port)
    assert c.cmd("VRFY test")[-1].startswith("252 2.5.2")
    assert c.cmd("HELP")[-1].startswith("214 2.0.0")
    assert c.cmd("NOOP") == ["250 2.0.0 Ok"]
    assert c.cmd("RSET") == ["250 2.0.0 Ok"]
    assert c.cmd("HELO client.test") == ["250 mx.example.test"]


def test_check_config(home):
    out = subprocess.run([PETREL, "--home", home, "check-config"], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    assert 'home: "%s"' % home in out.stdout
    assert "message_size: 52428800" in out.stdout
    assert ('- {protocol: submission, address: "127.0.0.1:2465", tls: implicit, '
            'client_certificates: none}') in out.stdout
    assert "relay_domains: []" in out.stdout and "routes: {}" in out.stdout
    assert "dns:\n  servers: []" in out.stdout and "timeout_ms: 10000" in out.stdout
    cfg = os.path.join(home, "dns.yaml")
    with open(cfg, "w") as f:
        f.write('dns: {servers: ["192.0.2.53", "[2001:db8::53]:5353"], timeout_ms: 500}\n'
                'routes: {partner.test: "[192.0.2.7]:2525"}\n')
    out = subprocess.run([PETREL, "-c", cfg, "check-config"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert '  servers: ["192.0.2.53", "[2001:db8::53]:5353"]' in out.stdout
    assert '  "partner.test": "[192.0.2.7]:2525"' in out.stdout
    with open(cfg, "w") as f:
        f.write('dns: {servers: ["ns.example.test"]}\n')
    out = subprocess.run([PETREL, "-c", cfg, "check-config"], capture_output=True, text=True)
    assert out.returncode == 1 and "expected \"IP\"" in out.stderr
    env = dict(os.environ, PETREL_HOME=home + "/env")
    out = subprocess.run([PETREL, "check-config"], capture_output=True, text=True, env=env)
    assert 'home: "%s/env"' % home in out.stdout
    bad = os.path.join(home, "bad.yaml")
    with open(bad, "w") as f:
        f.write("domains: [example.test]\nlimits:\n  recipients: many\n")
    out = subprocess.run([PETREL, "-c", bad, "check-config"], capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr.strip() == (
        "petrel: %s:3:15: expected a number from 1 to 100000, not 'many'" % bad)


def test_self_signed_certificate(petrel):
    cert = os.path.join(petrel.home, "tls", "cert.pem")
    out = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-subject", "-ext",
                          "subjectAltName"], capture_output=True, text=True)
    assert "CN = mx.example.test" in out.stdout
    assert ("DNS:mx.example.test, DNS:localhost, IP Address:127.0.0.1, "
            "IP Address:0:0:0:0:0:0:0:1") in out.stdout
    key = os.path.join(petrel.home, "tls", "key.pem")
    assert oct(os.stat(key).st_mode & 0o777) == "0o600"
    # An ordinary client that trusts the certificate verifies it on the
    # loopback address and on localhost.
    for host in ("127.0.0.1", "localhost"):
        context = ssl.create_default_context(cafile=cert)
        with smtplib.SMTP(host, petrel.smtp_port, timeout=10) as s:
            s.starttls(context=context)
            assert s.ehlo()[0] == 250
        with smtplib.SMTP_SSL(host, petrel.smtps_port, timeout=10, context=context) as s:
            assert s.noop()[0] == 250
