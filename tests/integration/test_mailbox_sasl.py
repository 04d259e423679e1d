"""IMAP and POP3 logins with the mechanisms beyond passwords (issue 12):
EXTERNAL with a client certificate (offered only once one verified),
OAUTHBEARER and XOAUTH2 with signed tokens, through the same auth
process and rules as SMTP's AUTH."""

import pytest

from test_auth import auth_petrel, b64, oauthbearer, plain, unb64, xoauth2
from test_imap import RawImap
from test_pop3 import RawPop


@pytest.fixture
def server():
    p = auth_petrel({"backend": "sqlite"}, imap=True, pop3=True)
    yield p
    assert p.stop() == 0, p.read_log()[-3000:]
    p.check_log_clean()


def capabilities(raw):
    lines = raw.cmd("c", "CAPABILITY")
    return next(l for l in lines if l.startswith(b"* CAPABILITY ")).split()[2:]


def auth_lines(server, user):
    return [l for l in server.read_log().splitlines()
            if "event=auth " in l and "result=ok" in l and "user=" + user in l]


def test_imap_external(server):
    creds = server.creds
    # No certificate: EXTERNAL is neither offered nor taken.
    raw = RawImap(server.imaps_port, tls=True)
    assert b"AUTH=EXTERNAL" not in capabilities(raw)
    assert raw.cmd("a", "AUTHENTICATE EXTERNAL =")[-1].startswith(b"a NO [CANNOT]")
    raw.close()
    # Alice's certificate on the implicit-TLS port: offered, and it logs
    # her in with an empty initial response (SASL-IR).
    raw = RawImap(server.imaps_port, tls=True, cert=creds.alice_cert)
    assert b"AUTH=EXTERNAL" in capabilities(raw)
    assert raw.cmd("a", "AUTHENTICATE EXTERNAL =")[-1].startswith(b"a OK [CAPABILITY")
    assert raw.cmd("b", "SELECT INBOX")[-1].startswith(b"b OK")
    raw.close()
    assert any("protocol=imap mechanism=EXTERNAL" in l
               for l in auth_lines(server, "alice@example.test"))
    # Over STARTTLS, the certificate mapped by fingerprint is bob's; it
    # does not log in as alice by naming her.
    raw = RawImap(server.imap_port, cert=creds.mapped_cert)
    assert raw.cmd("s", "STARTTLS")[-1].startswith(b"s OK")
    raw.starttls()
    assert raw.cmd("a", "AUTHENTICATE EXTERNAL " + b64("alice@example.test"))[-1] \
        .startswith(b"a NO [AUTHENTICATIONFAILED]")
    raw.send(b"b AUTHENTICATE EXTERNAL\r\n")
    assert raw.line() == b"+ "
    raw.send(b"\r\n")
    assert raw.until_tagged("b")[-1].startswith(b"b OK")
    raw.close()
    assert auth_lines(server, "bob@example.test")
    # Untrusted certificates give no identity.
    for cert in (creds.expired_cert, creds.revoked_cert, creds.self_signed):
        raw = RawImap(server.imaps_port, tls=True, cert=cert)
        assert b"AUTH=EXTERNAL" not in capabilities(raw)
        assert raw.cmd("a", "AUTHENTICATE EXTERNAL =")[-1].startswith(b"a NO")
        raw.close()


def test_imap_oauth_tokens(server):
    issuer = server.creds.issuer
    good = issuer.token("alice@example.test")
    raw = RawImap(server.imaps_port, tls=True)
    caps = capabilities(raw)
    assert b"AUTH=OAUTHBEARER" in caps and b"AUTH=XOAUTH2" in caps
    assert raw.cmd("a", "AUTHENTICATE OAUTHBEARER " + oauthbearer("alice@example.test", good)
                   )[-1].startswith(b"a OK")
    raw.close()
    raw = RawImap(server.imaps_port, tls=True)
    assert raw.cmd("a", "AUTHENTICATE XOAUTH2 " + xoauth2("alice@example.test", good)
                   )[-1].startswith(b"a OK")
    raw.close()
    # A bad token: the error as a challenge (RFC 7628 3.2.2), then NO
    # once the client answers it; a good token names only its subject.
    raw = RawImap(server.imaps_port, tls=True)
    expired = issuer.token("alice@example.test", expires_in=-3600)
    raw.send(("a AUTHENTICATE OAUTHBEARER %s\r\n"
              % oauthbearer("alice@example.test", expired)).encode())
    challenge = raw.line()
    assert challenge.startswith(b"+ ")
    assert b'"status":"invalid_token"' in unb64(challenge[2:].decode())
    raw.send(b64("\x01").encode() + b"\r\n")
    assert raw.until_tagged("a")[-1].startswith(b"a NO [AUTHENTICATIONFAILED]")
    raw.send(("b AUTHENTICATE XOAUTH2 %s\r\n" % xoauth2("bob@example.test", good)).encode())
    challenge = raw.line()
    assert challenge.startswith(b"+ ") and b'"status":"401"' in unb64(challenge[2:].decode())
    raw.send(b"\r\n")
    assert raw.until_tagged("b")[-1].startswith(b"b NO [AUTHENTICATIONFAILED]")
    raw.close()
    assert "expired" in server.read_log()


def test_pop3_external_and_oauth(server):
    creds = server.creds
    pop = RawPop(server.pop3s_port, tls=True)
    assert pop.cmd("AUTH EXTERNAL =").startswith(b"-ERR")
    assert pop.cmd("AUTH PLAIN " + plain("alice@example.test", "wrong")) \
        .startswith(b"-ERR [AUTH]")
    pop.sock.close()
    pop = RawPop(server.pop3s_port, tls=True, cert=creds.alice_cert)
    assert pop.cmd("CAPA").startswith(b"+OK")
    sasl = next(l for l in pop.multiline() if l.startswith(b"SASL "))
    assert b"EXTERNAL" in sasl.split()
    assert pop.cmd("AUTH EXTERNAL =").startswith(b"+OK")
    assert pop.cmd("STAT").startswith(b"+OK")
    pop.cmd("QUIT")
    pop.sock.close()
    pop = RawPop(server.pop3_port, cert=creds.mapped_cert)
    assert pop.cmd("STLS").startswith(b"+OK")
    pop.starttls()
    # A token is longer than a POP3 command line may be (255 octets, RFC
    # 2449 4): it goes on the continuation line (RFC 5034 4), which may be
    # longer.
    token = xoauth2("bob@example.test", creds.issuer.token("bob@example.test"))
    assert len(token) > 255
    assert pop.cmd("AUTH XOAUTH2 " + token) == b"-ERR Line too long"
    assert pop.cmd("AUTH XOAUTH2") == b"+ "
    assert pop.cmd(token).startswith(b"+OK")
    pop.cmd("QUIT")
    pop.sock.close()
    assert any("protocol=pop3 mechanism=EXTERNAL" in l
               for l in auth_lines(server, "alice@example.test"))
    assert any("protocol=pop3 mechanism=XOAUTH2" in l
               for l in auth_lines(server, "bob@example.test"))
