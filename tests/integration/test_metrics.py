"""Events and metrics (issue 10): the http listener serves /metrics in
the Prometheus text format (checked by promtool) and /healthz; the
counters move with what happens in every process; `petrel stats` prints
the same counters; bad HTTP requests get their status and the server keeps
serving."""
import re
import smtplib
import socket
import subprocess
import urllib.request

import pytest

from conftest import PETREL, SLOW, client_tls_context, wait_for
from dnsserver import Nsd


@pytest.fixture(scope="module")
def nsd():
    server = Nsd()
    yield server
    server.stop()


def scrape(server, path="/metrics"):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (server.http_port, path),
                                timeout=10 * SLOW) as r:
        return r.status, r.headers, r.read().decode()


def value(text, series):
    """The value of one series line, e.g. 'petrel_messages_total{result="accepted"}'."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return 0.0


def http_raw(port, data, tls=False):
    """Sends exact bytes; returns everything the server sent before closing."""
    s = socket.create_connection(("127.0.0.1", port), 10 * SLOW)
    if tls:
        s = client_tls_context().wrap_socket(s)
    s.sendall(data)
    answer = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        answer += chunk
    s.close()
    return answer


def test_metrics_count_what_happens(make_petrel, nsd):
    server = make_petrel(http=True, relay_networks=["127.0.0.0/8"],
                         extra_yaml='dns: {servers: ["127.0.0.1:%d"], timeout_ms: 3000}\n'
                         % nsd.port)
    with smtplib.SMTP("127.0.0.1", server.plain_port, timeout=10 * SLOW) as c:
        c.sendmail("s@client.test", ["test@example.test"], "Subject: one\r\n\r\nbody\r\n")
        # refused at RCPT: counted by verb and reply class
        code, _ = c.docmd("RCPT", "TO:<nobody@example.test>")
        assert code == 503 or code >= 500
        # a remote domain with no DNS: the queue's resolver counts the lookup
        c.sendmail("s@client.test", ["x@nowhere.example.test"], "Subject: two\r\n\r\nx\r\n")
    with smtplib.SMTP("127.0.0.1", server.submission_port, timeout=10 * SLOW) as c:
        c.starttls(context=client_tls_context())
        with pytest.raises(smtplib.SMTPAuthenticationError):
            c.login("test@example.test", "wrong password")
    assert len(server.wait_messages("test@example.test", 1)) == 1

    def delivered():
        text = scrape(server)[2]
        return value(text, 'petrel_deliveries_total{transport="maildir",status="sent"}') >= 1 \
            and value(text, 'petrel_dns_lookups_total{result="NXDOMAIN"}') >= 1
    wait_for(delivered, timeout=20)

    status, headers, text = scrape(server)
    assert status == 200
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    # the harness's readiness probe and the client above
    assert value(text, 'petrel_connections_total{result="accepted",protocol="smtp"}') == 2
    assert value(text, 'petrel_connections_total{result="accepted",protocol="submission"}') == 1
    assert value(text, 'petrel_messages_total{result="accepted"}') == 2
    assert value(text, 'petrel_received_bytes_total') > 0
    assert value(text, 'petrel_smtp_commands_total{verb="MAIL",reply_class="2xx"}') == 2
    assert value(text, 'petrel_smtp_commands_total{verb="end-of-data",reply_class="2xx"}') == 2
    assert value(text, 'petrel_smtp_commands_total{verb="RCPT",reply_class="5xx"}') >= 1
    assert value(text, 'petrel_smtp_command_duration_seconds_count{verb="EHLO"}') >= 2
    assert value(text, 'petrel_logins_total{mechanism="PLAIN",result="failed"}') == 1
    assert value(text, 'petrel_sessions_total{protocol="submission",tls_version="TLSv1.3"}') == 1
    assert value(text, 'petrel_start_time_seconds') > 1.7e9
    assert "petrel_queue_messages " in text
    assert "petrel_queue_oldest_message_age_seconds " in text
    assert value(text, "petrel_metrics_dropped_series_total") == 0
    # Prometheus's own checker accepts the exposition
    out = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr

    # petrel stats: the same counters, from the control socket
    out = server.cli("stats")
    assert out.returncode == 0, out.stderr
    assert 'petrel_messages_total{result="accepted"} 2' in out.stdout
    assert "_bucket{" not in out.stdout and "# HELP" not in out.stdout
    assert re.search(r'^petrel_smtp_command_duration_seconds_count\{verb="EHLO"\} \d+$',
                     out.stdout, re.M)

    status, _, body = scrape(server, "/healthz")
    assert (status, body) == (200, "ok\n")


def test_stats_without_a_daemon(make_petrel):
    server = make_petrel()
    server.stop()
    out = server.cli("stats")
    assert out.returncode == 2 and "is petrel running?" in out.stderr


BAD = [
    (b"GARBAGE\r\n\r\n", b"HTTP/1.1 400 Bad Request"),
    (b"GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n", b"HTTP/1.1 505 HTTP Version Not Supported"),
    (b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", b"HTTP/1.1 404 Not Found"),
    (b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
     b"HTTP/1.1 405 Method Not Allowed"),
    (b"GET /metrics HTTP/1.1\r\n\r\n", b"HTTP/1.1 400 Bad Request"),  # no Host
    (b"GET /metrics HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", b"HTTP/1.1 400 Bad Request"),
    (b"GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", b"HTTP/1.1 400 Bad Request"),
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b"HTTP/1.1 414 URI Too Long"),
    (b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n",
     b"HTTP/1.1 431 Request Header Fields Too Large"),
    (b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 101 + b"\r\n",
     b"HTTP/1.1 400 Bad Request"),
    (b"GET /metrics\x00 HTTP/1.1\r\nHost: x\r\n\r\n", b"HTTP/1.1 400 Bad Request"),
]


def test_bad_requests(make_petrel):
    server = make_petrel(http=True)
    for request, expected in BAD:
        answer = http_raw(server.http_port, request)
        assert answer.startswith(expected + b"\r\n"), (request[:60], answer[:200])
        assert b"Connection: close\r\n" in answer
    # and it still serves
    status, _, text = scrape(server)
    assert status == 200 and "petrel_connections_total" in text


def test_keep_alive_and_head(make_petrel):
    server = make_petrel(http=True)
    answer = http_raw(server.http_port,
                      b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    responses = answer.split(b"HTTP/1.1 ")[1:]
    assert len(responses) == 3, answer
    assert responses[0].startswith(b"200 OK") and responses[0].endswith(b"\r\n\r\nok\n")
    # HEAD: the length of the body, not the body
    assert responses[1].startswith(b"200 OK") and responses[1].endswith(b"\r\n\r\n")
    assert b"Connection: close" in responses[2]


def test_metrics_over_tls(make_petrel):
    server = make_petrel()
    server.stop()
    # the same home, with an implicit-TLS http listener
    with open(server.config_path) as f:
        text = f.read()
    tls_port = server.spare_port
    text = text.replace("listen:\n", 'listen:\n  - {protocol: http, address: "127.0.0.1:%d", '
                        'tls: implicit}\n' % tls_port)
    with open(server.config_path, "w") as f:
        f.write(text)
    server.start()
    answer = http_raw(tls_port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                      tls=True)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and answer.endswith(b"ok\n")


def test_http_refuses_starttls(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text('listen: [{protocol: http, address: "127.0.0.1:1", tls: starttls}]\n')
    out = subprocess.run([PETREL, "-c", str(path), "check-config"], capture_output=True,
                         text=True, timeout=20 * SLOW)
    assert out.returncode == 1 and "an http listener takes tls: none or implicit" in out.stderr
