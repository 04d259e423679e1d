"""Smarthost AUTH (RFC 4954 as a client): a route with credentials logs
in with PLAIN (or LOGIN when that is all that is offered) after STARTTLS,
before any mail; never sends the password without TLS; and a refused
login defers the mail rather than bouncing it. The smarthost is a
scripted server with a real TLS stack (Python's ssl)."""

import base64
import os
import shutil
import smtplib
import ssl
import subprocess
import tempfile
import time

import pytest

from conftest import PETREL, SLOW, Petrel, free_ports, make_home, wait_for
from peers import Scripted

USER, PASSWORD = "relay-user", "s3cret p\u00e4ss"


@pytest.fixture(scope="module")
def tls_context():
    d = tempfile.mkdtemp(prefix="petrel-smarthost-")
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                    "/CN=smarthost.test", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    yield context
    shutil.rmtree(d, ignore_errors=True)


def smarthost(tls_context, mechanisms=("PLAIN", "LOGIN"), starttls=True):
    """A handler: EHLO offering STARTTLS (then AUTH), checking the
    credentials, refusing MAIL before a login. Records each session's
    events in `log`."""
    log = []

    def handler(c):
        c.send("220 smarthost.test ESMTP\r\n")
        authed = False
        tls = False
        while True:
            line = c.line()
            verb = line.split(" ")[0].upper()
            log.append(("tls" if tls else "plain", line))
            if verb == "EHLO":
                ext = ["PIPELINING"]
                if starttls and not tls:
                    ext.append("STARTTLS")
                if tls or not starttls:
                    ext.append("AUTH " + " ".join(mechanisms))
                c.send("".join("250-%s\r\n" % e for e in ["smarthost.test"] + ext[:-1]) +
                       "250 %s\r\n" % ext[-1])
            elif verb == "STARTTLS":
                c.send("220 go ahead\r\n")
                c.sock = tls_context.wrap_socket(c.sock, server_side=True)
                tls = True
            elif verb == "AUTH":
                words = line.split(" ")
                if words[1].upper() == "PLAIN":
                    given = base64.b64decode(words[2]).decode()
                    ok = given == "\0%s\0%s" % (USER, PASSWORD)
                else:
                    c.send("334 VXNlcm5hbWU6\r\n")
                    user = base64.b64decode(c.line()).decode()
                    c.send("334 UGFzc3dvcmQ6\r\n")
                    password = base64.b64decode(c.line()).decode()
                    ok = (user, password) == (USER, PASSWORD)
                if ok:
                    authed = True
                    c.send("235 2.7.0 Authentication successful\r\n")
                else:
                    c.send("535 5.7.8 Authentication credentials invalid\r\n")
            elif verb == "MAIL" and not authed:
                c.send("530 5.7.0 Authentication required\r\n")
            elif verb == "DATA":
                c.send("354 go ahead\r\n")
                c.data()
                c.send("250 2.0.0 Ok: queued\r\n")
            elif verb == "QUIT":
                c.send("221 bye\r\n")
                return
            else:
                c.send("250 2.0.0 Ok\r\n")
    return handler, log


def sender(port, password=PASSWORD, extra="", password_file=None):
    secret = ("password_file: %s" % password_file if password_file
              else "password: \"%s\"" % password)
    yaml = ("routes: {\"*\": {next_hop: \"[127.0.0.7]:%d\", auth_user: %s, %s}}\n"
            % (port, USER, secret) +
            "delivery: {connect_timeout: 2s, helo_timeout: 3s}\n"
            "queue: {retry: [1h]}\n" + extra)
    return Petrel(make_home(), hostname="mx1.mail.test", relay_networks=["127.0.0.0/8"],
                  extra_yaml=yaml).start()


def send(server, rcpt="someone@far.test"):
    with smtplib.SMTP("127.0.0.1", server.plain_port) as s:
        s.sendmail("alice@example.test", [rcpt], "Subject: via smarthost\r\n\r\nhi\r\n")



def delivery_lines(server):
    return [line for line in server.read_log().splitlines() if "event=delivery " in line]


def finish(server):
    code = server.stop()
    server.check_log_clean()
    assert code in (0, None)
    shutil.rmtree(server.home, ignore_errors=True)


@pytest.mark.parametrize("mechanisms", [("PLAIN", "LOGIN"), ("LOGIN",)])
def test_logs_in_after_starttls_then_delivers(tls_context, mechanisms):
    port = free_ports(1)[0]
    handler, log = smarthost(tls_context, mechanisms)
    peer = Scripted("127.0.0.7", port, handler)
    server = sender(port)
    try:
        send(server)
        assert wait_for(lambda: any("status=sent" in line for line in delivery_lines(server)))
        verbs = [(mode, line.split(" ")[0].upper()) for mode, line in log]
        # (LOGIN's two answers are read inside the AUTH exchange)
        assert verbs[:5] == [("plain", "EHLO"), ("plain", "STARTTLS"), ("tls", "EHLO"),
                             ("tls", "AUTH"), ("tls", "MAIL")], verbs
        assert any(line.split(" ")[1].upper() == mechanisms[0] for mode, line in log
                   if line.upper().startswith("AUTH "))
        text = server.read_log()
        assert "event=auth relay=" in text and "result=ok" in text
        assert "mechanism=%s" % mechanisms[0] in text
        assert PASSWORD not in text and \
            base64.b64encode(("\0%s\0%s" % (USER, PASSWORD)).encode()).decode() not in text
    finally:
        finish(server)
        peer.stop()


def test_wrong_password_defers_never_bounces(tls_context):
    port = free_ports(1)[0]
    handler, log = smarthost(tls_context)
    peer = Scripted("127.0.0.7", port, handler)
    server = sender(port, password="wrong")
    try:
        send(server)
        assert wait_for(lambda: any("status=deferred" in line
                                    for line in delivery_lines(server)))
        line = [l for l in delivery_lines(server) if "status=deferred" in l][-1]
        assert "AUTH refused" in line and "535 5.7.8" in line
        assert "result=failed" in server.read_log()
        assert not any(l.upper().startswith("MAIL") for _, l in log)
        assert server.messages("alice@example.test") == []  # no bounce
        assert server.spool_files() != []
    finally:
        finish(server)
        peer.stop()


def test_no_password_without_tls(tls_context):
    """A smarthost without STARTTLS (AUTH offered in the clear): petrel
    sends no AUTH at all and defers, even under delivery.tls: may."""
    port = free_ports(1)[0]
    handler, log = smarthost(tls_context, starttls=False)
    peer = Scripted("127.0.0.7", port, handler)
    server = sender(port)
    try:
        send(server)
        assert wait_for(lambda: any("status=deferred" in line
                                    for line in delivery_lines(server)))
        assert "AUTH needs TLS" in [l for l in delivery_lines(server)
                                    if "status=deferred" in l][-1]
        assert not any(line.upper().startswith("AUTH") for _, line in log)
        assert all(mode == "plain" for mode, _ in log)
    finally:
        finish(server)
        peer.stop()


def test_password_file_and_config_checks(tls_context, tmp_path):
    port = free_ports(1)[0]
    secret = tmp_path / "smarthost.secret"
    secret.write_text(PASSWORD + "\nignored second line\n")
    handler, log = smarthost(tls_context)
    peer = Scripted("127.0.0.7", port, handler)
    server = sender(port, password_file=str(secret))
    try:
        send(server)
        assert wait_for(lambda: any("status=sent" in line for line in delivery_lines(server)))
        # check-config shows the route, never the password
        out = subprocess.run([PETREL, "-c", server.config_path, "check-config"],
                             capture_output=True, text=True)
        assert "auth_user: \"%s\"" % USER in out.stdout and PASSWORD not in out.stdout
    finally:
        finish(server)
        peer.stop()
    bad = [
        ('{"*": {next_hop: "[127.0.0.7]:25", auth_user: u}}', "go together"),
        ('{"*": {next_hop: "[127.0.0.7]:25", auth_user: u, password: p, '
         'password_file: /nonexistent}}', "not both"),
        ('{"*": {auth_user: u, password: p}}', "needs a next_hop"),
        ('{"*": {next_hop: "[127.0.0.7]:25", user: u}}', "unknown key 'user'"),
        ('{"*": {next_hop: "[127.0.0.7]:25", auth_user: u, password_file: /nonexistent}}',
         "password_file"),
    ]
    for routes, message in bad:
        config = tmp_path / "bad.yaml"
        config.write_text("home: %s\nroutes: %s\n" % (tmp_path, routes))
        out = subprocess.run([PETREL, "-c", str(config), "check-config"],
                             capture_output=True, text=True)
        assert out.returncode != 0 and message in out.stderr, (routes, out.stderr)
