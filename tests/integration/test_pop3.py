"""POP3 (src/pop3d): poplib and exact bytes — STLS and its injection,
USER/PASS under TLS only, AUTH, STAT/LIST/UIDL agreeing with IMAP,
RETR with byte-stuffing, TOP, deletions only at QUIT, one session per
maildrop ([IN-USE]), and the bad input issue 12 names."""

import base64
import os
import poplib
import re
import socket

import pytest

from conftest import SLOW, LineClient, client_tls_context, wait_for
from test_imap import deliver, wait_delivered

USER = "test@example.test"


class RawPop(LineClient):
    def __init__(self, port, tls=False, cert=None):
        super().__init__(port, tls=tls, cert=cert)
        self.greeting = self.line()

    line = LineClient.read_line

    def cmd(self, text):
        self.sock.sendall((text.encode() if isinstance(text, str) else text) + b"\r\n")
        return self.line()

    def multiline(self):
        lines = []
        while True:
            line = self.line()
            if line == b".":
                return lines
            lines.append(line)

    def login(self, password):
        assert self.cmd("STLS").startswith(b"+OK")
        self.starttls()
        assert self.cmd("USER " + USER).startswith(b"+OK")
        return self.cmd("PASS " + password)


@pytest.fixture
def server(make_petrel):
    return make_petrel(pop3=True, imap=True)


def pop(server):
    client = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10 * SLOW)
    client.stls(context=client_tls_context())
    client.user(USER)
    client.pass_(server.password)
    return client


def try_pop(server):
    """A login, or None while the last session still holds the maildrop."""
    try:
        return pop(server)
    except poplib.error_proto as e:
        assert b"[IN-USE]" in e.args[0]
        return None


def test_login_rules(server):
    raw = RawPop(server.pop3_port)
    assert raw.greeting.startswith(b"+OK")
    assert raw.cmd("CAPA").startswith(b"+OK")
    caps = raw.multiline()
    assert b"STLS" in caps and b"USER" not in caps and b"UIDL" in caps
    # No password in the clear.
    assert raw.cmd("USER " + USER) == b"-ERR [AUTH] Use STLS first"
    assert raw.cmd("AUTH PLAIN").startswith(b"-ERR [AUTH]")
    assert raw.cmd("STAT") == b"-ERR Log in first"
    assert raw.cmd("STLS").startswith(b"+OK")
    raw.starttls()
    assert raw.cmd("CAPA").startswith(b"+OK")
    caps = raw.multiline()
    assert b"USER" in caps and any(c.startswith(b"SASL PLAIN") for c in caps), caps
    assert raw.cmd("USER " + USER).startswith(b"+OK")
    assert raw.cmd("PASS wrong") == b"-ERR [AUTH] Authentication failed"
    token = base64.b64encode(b"\0" + USER.encode() + b"\0" + server.password.encode())
    assert raw.cmd(b"AUTH PLAIN " + token).startswith(b"+OK")
    assert raw.cmd("QUIT").startswith(b"+OK")


def test_stls_injection_discarded(server):
    raw = RawPop(server.pop3_port)
    raw.sock.sendall(b"STLS\r\nUSER %s\r\nPASS %s\r\n"
                     % (USER.encode(), server.password.encode()))
    assert raw.line().startswith(b"+OK")
    raw.starttls()
    # The pipelined USER/PASS were dropped: still not logged in.
    assert raw.cmd("STAT") == b"-ERR Log in first"


def test_maildrop(server):
    # one at a time, so that they are messages 1 and 2 in this order
    deliver(server, subject="one", body="..dots\r\n.\r\nline\r\n.end\r\n")
    wait_delivered(server, 1)
    deliver(server, subject="two", body="a\r\nb\r\nc\r\nd\r\n")
    wait_delivered(server, 2)
    p = pop(server)
    count, size = p.stat()
    assert count == 2
    resp, listing, _ = p.list()
    sizes = [int(l.split()[1]) for l in listing]
    assert sum(sizes) == size
    # UIDL: the IMAP UID and UIDVALIDITY (Dovecot's default format)
    resp, uidls, _ = p.uidl()
    imap = server.imap()
    typ, data = imap.status("INBOX", "(UIDVALIDITY)")
    validity = int(re.search(rb"UIDVALIDITY (\d+)", data[0]).group(1))
    imap.logout()
    assert uidls == [b"1 %08X%08X" % (1, validity), b"2 %08X%08X" % (2, validity)]
    # RETR: the body's dot-lines arrive as they were (poplib unstuffs)
    resp, lines, octets = p.retr(1)
    assert b"..dots" in lines and b"." in lines and b".end" in lines, lines
    assert octets >= sizes[0]
    # TOP 2: the header and two body lines
    resp, lines, _ = p.top(2, 2)
    body = lines[lines.index(b"") + 1:]
    assert body == [b"a", b"b"], lines
    p.quit()


def test_dele_rset_quit(server):
    deliver(server)
    deliver(server)
    wait_delivered(server, 2)
    p = pop(server)
    p.dele(1)
    assert p.stat()[0] == 1
    p.rset()
    p.dele(2)
    p.rset()
    p.quit()  # nothing deleted
    cur = os.path.join(server.mailbox(USER), "cur")
    assert len(os.listdir(cur)) == 2
    p = pop(server)
    p.dele(1)
    # A disconnect without QUIT deletes nothing (no UPDATE state).
    p.sock.shutdown(socket.SHUT_RDWR)  # poplib's file keeps the fd open
    p.sock.close()
    p = wait_for(lambda: try_pop(server))
    assert p.stat()[0] == 2
    p.dele(2)
    p.quit()
    assert wait_for(lambda: len(os.listdir(cur)) == 1)
    m = server.imap()
    assert m.select("INBOX") == ("OK", [b"1"])
    m.logout()


def test_in_use(server):
    first = pop(server)
    raw = RawPop(server.pop3_port)
    assert raw.login(server.password) == b"-ERR [IN-USE] Another POP3 session has this mailbox"
    first.quit()
    raw = RawPop(server.pop3_port)
    assert raw.login(server.password).startswith(b"+OK")


def test_bad_message_numbers(server):
    deliver(server)
    wait_delivered(server, 1)
    raw = RawPop(server.pop3_port)
    assert raw.login(server.password).startswith(b"+OK")
    assert raw.cmd("RETR 0").startswith(b"-ERR")
    assert raw.cmd("RETR 4294967296").startswith(b"-ERR")
    assert raw.cmd("RETR 2") == b"-ERR No such message"
    assert raw.cmd("TOP 1 x").startswith(b"-ERR")
    assert raw.cmd(b"RETR 1\x00").startswith(b"-ERR")
    assert raw.cmd("DELE 1").startswith(b"+OK")
    assert raw.cmd("RETR 1") == b"-ERR Message 1 is deleted"
    assert raw.cmd("X" * 300).startswith(b"-ERR")
    assert raw.cmd("NOOP").startswith(b"+OK")


def test_implicit_tls(server):
    p = poplib.POP3_SSL("127.0.0.1", server.pop3s_port, context=client_tls_context(),
                        timeout=10 * SLOW)
    p.user(USER)
    assert p.pass_(server.password).startswith(b"+OK")
    p.quit()
