"""Users logging in (issue 4): SASL in SMTP under TLS with real clients
(smtplib, swaks, curl, openssl s_client, an RFC 5802 SCRAM client written
here), client certificates, OAuth bearer tokens, the relay matrix, every
bad input the issue names, and the brute-force defence. The main cases
run on SQLite and on a real PostgreSQL server."""

import base64
import hashlib
import hmac
import os
import smtplib
import socket
import ssl
import statistics
import subprocess
import time

import pytest

from authpki import Pki, TokenIssuer, fingerprint
from conftest import (SLOW, Petrel, Raw, client_tls_context, make_home, wait_for)

ALL_MECHANISMS = "[PLAIN, LOGIN, SCRAM-SHA-256, EXTERNAL, OAUTHBEARER, XOAUTH2, CRAM-MD5]"


def b64(data):
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()


def unb64(text):
    return base64.b64decode(text)


class Creds:
    """Keys and certificates for one server, made before it starts."""

    def __init__(self, home):
        self.pki = Pki(home)
        self.alice_cert = self.pki.client("alice", email="alice@example.test")
        self.mapped_cert = self.pki.client("device-7")  # no e-mail: mapped to bob
        self.expired_cert = self.pki.client("old", email="alice@example.test",
                                            days=(-30, -1))
        self.revoked_cert = self.pki.client("stolen", email="alice@example.test",
                                            revoke=True)
        self.self_signed = self.pki.client("mallory", email="alice@example.test",
                                           issuer=False)
        self.pki.write_crl()
        self.issuer = TokenIssuer(home)


def auth_petrel(backend, mode="optional", failures="{delay_ms: 0}", limits=None,
                sender_check=None, **listeners):
    """A petrel with every mechanism, client certificates checked against
    creds.pki and OAuth tokens from creds.issuer; listeners: Petrel's
    imap=True, pop3=True."""
    home = make_home()
    creds = Creds(home)
    auth = dict(backend)
    auth.update({
        "mechanisms": ALL_MECHANISMS,
        "oauth": creds.issuer.yaml(),
        "failures": failures,
        "certificate_users": '[{fingerprint: "%s", user: bob@example.test}]'
                             % fingerprint(creds.mapped_cert[2]),
    })
    if sender_check:
        auth["sender_check"] = sender_check
    p = Petrel(home, auth=auth, client_certificates=mode, limits=limits, **listeners,
               extra_yaml='tls: {client_ca: "%s", client_crl: "%s"}\n'
                          % (creds.pki.ca_path, creds.pki.crl_path))
    p.creds = creds
    return p.start()


@pytest.fixture
def server(backend):
    p = auth_petrel(backend)
    yield p
    assert p.stop() == 0, p.read_log()[-3000:]
    p.check_log_clean()


def starttls(port, cert=None, source="127.0.0.1"):
    """A Raw client on port, through STARTTLS (with a client certificate
    if given), greeted again with EHLO; .ehlo holds that reply."""
    c = Raw.__new__(Raw)
    c.sock = socket.create_connection(("127.0.0.1", port), 10 * SLOW,
                                      source_address=(source, 0))
    c.buffer = b""
    c.banner = c.reply()
    c.cmd("EHLO client.test")
    assert c.cmd("STARTTLS")[-1].startswith("220")
    ctx = client_tls_context()
    if cert:
        ctx.load_cert_chain(cert[0], cert[1])
    c.sock = ctx.wrap_socket(c.sock)
    c.ehlo = c.cmd("EHLO client.test")
    return c


def plain(authcid, password, authzid=""):
    return b64("%s\0%s\0%s" % (authzid, authcid, password))


def auth_line(ehlo):
    return next((l[4:] for l in ehlo if l[4:].startswith("AUTH ")), "")


# --- what is offered, and where ---------------------------------------

def test_auth_only_under_tls(server):
    c = Raw(server.submission_port)
    ehlo = c.cmd("EHLO client.test")
    assert auth_line(ehlo) == ""
    assert c.cmd("AUTH PLAIN " + plain("alice@example.test", "secret"))[-1] \
        .startswith("538 5.7.11")
    c.close()
    c = starttls(server.submission_port)
    offered = auth_line(c.ehlo).split()[1:]
    assert offered == ["PLAIN", "LOGIN", "SCRAM-SHA-256", "OAUTHBEARER", "XOAUTH2",
                       "CRAM-MD5"]  # EXTERNAL only with a verified certificate
    assert c.cmd("AUTH EXTERNAL =")[-1].startswith("504 5.5.4")
    assert c.cmd("AUTH GSSAPI")[-1].startswith("504 5.5.4")
    c.close()
    # Implicit TLS (RFC 8314) offers it at once.
    c = Raw(server.smtps_port, tls=True)
    assert "PLAIN" in auth_line(c.cmd("EHLO client.test"))
    c.close()


def test_relay_matrix(server):
    msg = b"Subject: matrix\r\n\r\nhello\r\n"
    # Unauthenticated to a local user: accepted.
    s = smtplib.SMTP("127.0.0.1", server.plain_port)
    s.sendmail("x@remote.example", ["alice@example.test"], msg)
    # Unauthenticated to a remote domain: refused.
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        s.sendmail("x@remote.example", ["someone@remote.example"], msg)
    assert refused.value.recipients["someone@remote.example"][0] == 550
    s.quit()
    # Submission without AUTH: 530 at MAIL.
    s = smtplib.SMTP("127.0.0.1", server.submission_port)
    s.starttls(context=client_tls_context())
    s.ehlo()
    assert s.mail("alice@example.test")[0] == 530
    s.quit()
    # Authenticated to a remote domain: queued.
    s = smtplib.SMTP("127.0.0.1", server.submission_port)
    s.starttls(context=client_tls_context())
    s.login("alice@example.test", "secret")
    assert s.sendmail("alice@example.test", ["someone@remote.example"], msg) == {}
    # ... but only as herself.
    with pytest.raises(smtplib.SMTPSenderRefused) as sender:
        s.sendmail("bob@example.test", ["someone@remote.example"], msg)
    assert sender.value.smtp_code == 553
    s.quit()
    assert server.wait_messages("alice@example.test", 1)
    assert wait_for(lambda: "someone@remote.example" in server.cli("queue", "list").stdout)
    log = server.read_log()
    assert "event=auth" in log and "result=ok" in log and "secret" not in log
    # The message carries who sent it, in the Received header and spool.
    queued = [f for f in server.spool_files()]
    assert queued
    with open(os.path.join(server.home, "spool", "queue", queued[0]), "rb") as f:
        spool = f.read()
    assert b"(Authenticated sender: alice@example.test)" in spool
    assert b"A 18:alice@example.test\n" in spool


# --- real clients ----------------------------------------------------------

def swaks(port, tls, mechanism, user, password, to):
    return subprocess.run(
        ["swaks", "--server", "127.0.0.1", "--port", str(port), tls,
         "--auth", mechanism, "--auth-user", user, "--auth-password", password,
         "--from", user, "--to", to, "--timeout", "20"],
        capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_swaks_starttls(server, mechanism):
    out = swaks(server.submission_port, "--tls", mechanism, "alice@example.test",
                "secret", "bob@example.test")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "235 2.7.0 Authentication successful" in out.stdout
    assert "AUTH " + mechanism in out.stdout


def test_swaks_tls_on_connect(server):
    out = swaks(server.smtps_port, "--tls-on-connect", "PLAIN", "bob@example.test",
                "secret", "someone@remote.example")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "235 2.7.0" in out.stdout and "queued as" in out.stdout


def test_swaks_wrong_password(server):
    out = swaks(server.submission_port, "--tls", "LOGIN", "alice@example.test",
                "wrong", "bob@example.test")
    assert out.returncode != 0
    assert "535 5.7.8" in out.stdout


def test_curl_smtp(server):
    path = os.path.join(server.home, "curl-mail.txt")
    with open(path, "w") as f:
        f.write("Subject: from curl\r\n\r\nhello from curl\r\n")
    out = subprocess.run(
        ["curl", "-sS", "--ssl-reqd", "-k", "--user", "alice@example.test:secret",
         "--mail-from", "alice@example.test", "--mail-rcpt", "bob@example.test",
         "-T", path, "smtp://127.0.0.1:%d" % server.submission_port],
        capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    msgs = server.wait_messages("bob@example.test", 1)
    assert msgs and b"hello from curl" in msgs[0]
    assert b"(Authenticated sender: alice@example.test)" in msgs[0]
    bad = subprocess.run(
        ["curl", "-sS", "--ssl-reqd", "-k", "--user", "alice@example.test:nope",
         "--mail-from", "alice@example.test", "--mail-rcpt", "bob@example.test",
         "-T", path, "smtp://127.0.0.1:%d" % server.submission_port],
        capture_output=True, text=True, timeout=60)
    assert bad.returncode == 67, bad.stderr  # CURLE_LOGIN_DENIED


# --- SCRAM-SHA-256, from RFC 5802/7677 -------------------------------------

def hmac256(key, text):
    return hmac.new(key, text.encode() if isinstance(text, str) else text,
                    hashlib.sha256).digest()


def scram(c, user, password, authzid="", tamper_nonce=False, tamper_proof=False):
    """Runs the exchange; returns (last reply, server-first attributes)."""
    cnonce = b64(os.urandom(18))
    gs2 = "n,%s," % ("a=" + authzid if authzid else "")
    first_bare = "n=%s,r=%s" % (user.replace("=", "=3D").replace(",", "=2C"), cnonce)
    r = c.cmd("AUTH SCRAM-SHA-256 " + b64(gs2 + first_bare))
    assert r[-1].startswith("334 "), r
    server_first = unb64(r[-1][4:]).decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    assert attrs["r"].startswith(cnonce) and len(attrs["r"]) > len(cnonce)
    nonce = attrs["r"]
    if tamper_nonce:
        nonce = nonce[:-1] + ("A" if nonce[-1] != "A" else "B")
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), unb64(attrs["s"]),
                                 int(attrs["i"]))
    client_key = hmac256(salted, "Client Key")
    stored_key = hashlib.sha256(client_key).digest()
    without_proof = "c=%s,r=%s" % (b64(gs2), nonce)
    auth_message = ",".join([first_bare, server_first, without_proof])
    proof = bytes(a ^ b for a, b in zip(client_key, hmac256(stored_key, auth_message)))
    if tamper_proof:
        proof = bytes([proof[0] ^ 1]) + proof[1:]
    r = c.cmd(b64(without_proof + ",p=" + b64(proof)))
    if r[-1].startswith("334 "):
        server_final = unb64(r[-1][4:]).decode()
        expected = b64(hmac256(hmac256(salted, "Server Key"), auth_message))
        assert server_final == "v=" + expected  # the server knew the key too
        r = c.cmd("")
    return r, attrs


def test_scram_sha_256(server):
    c = starttls(server.submission_port)
    r, _ = scram(c, "alice@example.test", "secret")
    assert r[-1].startswith("235 2.7.0"), r
    assert c.cmd("MAIL FROM:<alice@example.test>")[-1].startswith("250")
    c.close()
    c = starttls(server.submission_port)
    assert scram(c, "alice@example.test", "wrong")[0][-1].startswith("535 5.7.8")
    assert scram(c, "alice@example.test", "secret", tamper_nonce=True)[0][-1] \
        .startswith("535 5.7.8")
    assert scram(c, "alice@example.test", "secret", tamper_proof=True)[0][-1] \
        .startswith("535 5.7.8")
    # An unknown name gets a server-first like a real one, with a salt
    # that stays the same (no enumeration), and then fails the same way.
    r1, a1 = scram(c, "ghost@example.test", "secret")
    r2, a2 = scram(c, "ghost@example.test", "other")
    _, real = scram(c, "alice@example.test", "wrong")
    assert r1[-1] == r2[-1] == "535 5.7.8 Authentication credentials invalid"
    assert a1["s"] == a2["s"] and a1["i"] == a2["i"] == real["i"]
    assert len(unb64(a1["s"])) == len(unb64(real["s"]))
    # Now the right one, on the same connection.
    assert scram(c, "alice@example.test", "secret")[0][-1].startswith("235")
    c.close()


# --- client certificates and EXTERNAL --------------------------------------

def test_external_with_openssl_s_client(server):
    cert, key, _ = server.creds.alice_cert
    session = ("EHLO client.test\r\nAUTH EXTERNAL =\r\n"
               "MAIL FROM:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\n"
               "DATA\r\n")
    proc = subprocess.Popen(
        ["openssl", "s_client", "-quiet", "-connect",
         "127.0.0.1:%d" % server.submission_port, "-starttls", "smtp",
         "-cert", cert, "-key", key],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # One command at a time: the server answers each before the next.
    out = b""
    for line in session.splitlines(keepends=True):
        proc.stdin.write(line.encode())
        proc.stdin.flush()
        time.sleep(0.3 * SLOW)
    proc.stdin.write(b"Subject: cert\r\n\r\nsigned in by certificate\r\n.\r\nQUIT\r\n")
    proc.stdin.flush()
    out, err = proc.communicate(timeout=30)
    text = out.decode()
    assert "AUTH PLAIN LOGIN SCRAM-SHA-256 EXTERNAL" in text, text + err.decode()
    assert "235 2.7.0" in text, text
    assert "queued as" in text, text
    log = server.read_log()
    assert "event=client-certificate" in log and "verified=yes" in log
    assert "san_email=alice@example.test" in log
    msg = server.wait_messages("bob@example.test", 1)[0]
    assert b"(client certificate verified: CN=alice,O=Petrel Tests sha256 " in msg
    assert b"(Authenticated sender: alice@example.test)" in msg


def test_external_mapping_and_authzid(server):
    c = starttls(server.submission_port, cert=server.creds.mapped_cert)
    assert "EXTERNAL" in auth_line(c.ehlo)
    # No initial response: an empty challenge, then the (empty) authzid.
    assert c.cmd("AUTH EXTERNAL")[-1] == "334 "
    assert c.cmd("")[-1].startswith("235")  # bob, by fingerprint
    assert c.cmd("MAIL FROM:<bob@example.test>")[-1].startswith("250")
    c.close()
    # Asking to act for someone else needs a delegation.
    c = starttls(server.submission_port, cert=server.creds.alice_cert)
    assert c.cmd("AUTH EXTERNAL " + b64("bob@example.test"))[-1].startswith("535")
    c.close()


@pytest.mark.parametrize("which,error", [("expired_cert", "expired"),
                                         ("self_signed", "self-signed"),
                                         ("revoked_cert", "revoked")])
def test_untrusted_certificates_are_no_identity(server, which, error):
    c = starttls(server.submission_port, cert=getattr(server.creds, which))
    assert "EXTERNAL" not in auth_line(c.ehlo)
    assert c.cmd("AUTH EXTERNAL =")[-1].startswith("504")
    # Still usable with a password on the same connection.
    assert c.cmd("AUTH PLAIN " + plain("alice@example.test", "secret"))[-1] \
        .startswith("235")
    c.close()
    log = server.wait_log("verified=no")
    line = [l for l in log.splitlines() if "event=client-certificate" in l][-1]
    assert "verified=no" in line and error in line.lower(), line


def test_required_certificates_refuse_untrusted(backend):
    p = auth_petrel(backend, mode="required")
    try:
        c = starttls(p.submission_port, cert=p.creds.alice_cert)
        assert c.cmd("AUTH EXTERNAL =")[-1].startswith("235")
        c.close()
        for bad in (p.creds.expired_cert, p.creds.self_signed, p.creds.revoked_cert,
                    None):
            with pytest.raises((ssl.SSLError, OSError, EOFError)):
                c = starttls(p.submission_port, cert=bad)
                c.cmd("NOOP")
        assert p.cli("check-config").returncode == 0
    finally:
        assert p.stop() == 0
        p.check_log_clean()


# --- OAuth bearer tokens (RFC 7628) -----------------------------------------

def oauthbearer(user, token):
    return b64("n,a=%s,\x01auth=Bearer %s\x01\x01" % (user, token))


def xoauth2(user, token):
    return b64("user=%s\x01auth=Bearer %s\x01\x01" % (user, token))


def test_oauth_tokens(server):
    issuer = server.creds.issuer
    c = starttls(server.submission_port)
    good = issuer.token("alice@example.test")
    assert c.cmd("AUTH OAUTHBEARER " + oauthbearer("alice@example.test", good))[-1] \
        .startswith("235")
    c.close()
    c = starttls(server.submission_port)
    assert c.cmd("AUTH XOAUTH2 " + xoauth2("alice@example.test", good))[-1] \
        .startswith("235")
    c.close()
    from authpki import TokenIssuer as Other
    forged = Other(server.home + "/..").token("alice@example.test")
    bad = {
        "bad signature": forged,
        "wrong audience": issuer.token("alice@example.test", audience="someone-else"),
        "expired": issuer.token("alice@example.test", expires_in=-3600),
        "wrong issuer": issuer.token("alice@example.test", issuer="https://evil.test"),
    }
    c = starttls(server.submission_port)
    for why, token in bad.items():
        r = c.cmd("AUTH OAUTHBEARER " + oauthbearer("alice@example.test", token))
        assert r[-1].startswith("334 "), (why, r)
        assert b'"status":"invalid_token"' in unb64(r[-1][4:])
        assert c.cmd(b64("\x01"))[-1].startswith("535 5.7.8"), why
        r = c.cmd("AUTH XOAUTH2 " + xoauth2("alice@example.test", token))
        assert r[-1].startswith("334 ") and b'"status":"401"' in unb64(r[-1][4:])
        assert c.cmd("")[-1].startswith("535"), why
    # A good token for alice does not log in as bob.
    r = c.cmd("AUTH XOAUTH2 " + xoauth2("bob@example.test", good))
    assert r[-1].startswith("334 ")
    assert c.cmd("")[-1].startswith("535")
    c.close()
    log = server.read_log()
    for reason in ("signature does not verify", "audience", "expired", "issuer"):
        assert reason in log, reason


# --- bad input ------------------------------------------------------------

def test_bad_input(server):
    c = starttls(server.submission_port)

    def auth(arg):
        return c.cmd("AUTH " + arg)[-1]

    # Malformed base64, including lengths 4n+1 and 4n+3.
    for junk in ["QUJDR", "QUJ", "QU=J", "!!!!", "QUJD RA=="]:
        assert auth("PLAIN " + junk).startswith("501 5.5.2"), junk
    assert auth("PLAIN") == "334 "
    assert c.cmd("QUJDR")[-1].startswith("501 5.5.2")
    # PLAIN with missing or extra NULs, an empty authcid.
    for message in ["alice@example.test\0secret", "alice@example.testsecret",
                    "\0\0secret", "\0alice@example.test\0sec\0ret",
                    "\0alice@example.test\0"]:
        assert auth("PLAIN " + b64(message)).startswith("535 5.7.8"), repr(message)
    # NUL or invalid UTF-8 inside credentials.
    assert auth("PLAIN " + b64(b"\0ali\xffce@example.test\0secret")).startswith("535")
    assert auth("PLAIN " + b64(b"\0alice@example.test\0sec\xc3\x28")).startswith("535")
    # "=" is an empty initial response: for PLAIN, malformed.
    assert auth("PLAIN =").startswith("535 5.7.8")
    # "*" cancels.
    assert auth("LOGIN") == "334 " + b64("Username:")
    assert c.cmd("*")[-1].startswith("501 5.7.0")
    # authzid other than authcid: refused unless delegated.
    assert auth("PLAIN " + plain("alice@example.test", "secret",
                                 "bob@example.test")).startswith("535")
    assert server.cli("user", "grant", "alice@example.test",
                      "bob@example.test").returncode == 0
    assert auth("PLAIN " + plain("alice@example.test", "secret",
                                 "bob@example.test")).startswith("235")
    # AUTH after AUTH; MAIL as the acted-for user is fine.
    assert auth("PLAIN " + plain("alice@example.test", "secret")).startswith("503 5.5.1")
    assert c.cmd("MAIL FROM:<bob@example.test>")[-1].startswith("250")
    assert auth("PLAIN " + plain("alice@example.test", "secret")).startswith("503")
    c.close()
    assert "level=panic" not in server.read_log()


def test_auth_line_lengths(server):
    c = starttls(server.submission_port)
    # RFC 4954 4: a 12,288-octet response is accepted and processed...
    assert c.cmd("AUTH PLAIN")[-1] == "334 "
    password = "x" * (12288 * 3 // 4 - len("\0alice@example.test\0"))
    response = plain("alice@example.test", password)
    assert len(response) == 12288
    assert c.cmd(response)[-1].startswith("535 5.7.8")  # processed: wrong password
    # ... one more octet is refused, and the exchange ends.
    assert c.cmd("AUTH PLAIN")[-1] == "334 "
    assert c.cmd(response + "A")[-1].startswith("500 5.5.6")
    assert c.cmd("NOOP")[-1].startswith("250")
    # The AUTH command line with its initial response has the same limit.
    line = "AUTH PLAIN " + "A" * (12288 - len("AUTH PLAIN ") + 1)
    assert c.cmd(line)[-1].startswith("500 5.5.6")
    assert c.cmd("AUTH PLAIN " + plain("alice@example.test", "secret"))[-1] \
        .startswith("235")
    c.close()


def test_initial_response_over_configured_length():
    p = auth_petrel({"backend": "sqlite"}, limits={"auth_line": 1024})
    try:
        c = starttls(p.submission_port)
        long_response = plain("alice@example.test", "p" * 800)
        assert len("AUTH PLAIN " + long_response) > 1024
        assert c.cmd("AUTH PLAIN " + long_response)[-1].startswith("500 5.5.6")
        assert c.cmd("AUTH PLAIN " + plain("alice@example.test", "secret"))[-1] \
            .startswith("235")
        c.close()
    finally:
        assert p.stop() == 0
        p.check_log_clean()


# --- passwords: imported hashes, disabled users ---------------------------

def test_imported_hash_upgraded_on_login(server):
    sha512 = subprocess.run(["openssl", "passwd", "-6", "old-pw"], capture_output=True,
                            text=True, check=True).stdout.strip()
    path = server.home + "/import.passwd"
    with open(path, "w") as f:
        f.write("carol@example.test:{SHA512-CRYPT}%s\n" % sha512)
    assert server.cli("user", "import", path).returncode == 0
    assert "SHA512-CRYPT" in server.cli("user", "list").stdout
    c = starttls(server.submission_port)
    # No SCRAM keys yet for an imported hash.
    assert scram(c, "carol@example.test", "old-pw")[0][-1].startswith("535")
    assert c.cmd("AUTH PLAIN " + plain("carol@example.test", "old-pw"))[-1] \
        .startswith("235")
    c.close()
    listing = server.cli("user", "list").stdout
    carol = [l for l in listing.splitlines() if l.startswith("carol@")][0]
    assert carol.split()[-1] == "ARGON2ID"
    assert "event=password-rehashed" in server.read_log()
    c = starttls(server.submission_port)
    assert scram(c, "carol@example.test", "old-pw")[0][-1].startswith("235")
    c.close()


def test_disabled_user_cannot_log_in(server):
    assert server.cli("user", "disable", "bob@example.test").returncode == 0
    c = starttls(server.submission_port)
    assert c.cmd("AUTH PLAIN " + plain("bob@example.test", "secret"))[-1] \
        .startswith("535")
    c.close()
    assert "user disabled" in server.read_log()


# --- brute force ------------------------------------------------------------

def timed(c, line):
    start = time.monotonic()
    reply = c.cmd(line)[-1]
    return reply, time.monotonic() - start


def test_growing_delays_then_lockout():
    p = auth_petrel({"backend": "sqlite"},
                    failures="{delay_ms: 200, max_delay_ms: 800, lockout_after_ip: 5, "
                             "lockout_after_user: 100, lockout: 3s, window: 1h}")
    try:
        c = starttls(p.submission_port)
        delays = []
        for _ in range(4):
            reply, took = timed(c, "AUTH PLAIN " + plain("alice@example.test", "bad"))
            assert reply == "535 5.7.8 Authentication credentials invalid"
            delays.append(took)
        # 200, 400, 800, 800 ms (plus hashing)
        assert delays[0] >= 0.2 and delays[1] >= 0.4 and delays[2] >= 0.8
        assert delays[3] >= 0.8 and delays[3] < 0.8 + 2 * SLOW
        reply, _ = timed(c, "AUTH PLAIN " + plain("alice@example.test", "bad"))
        assert reply.startswith("535")  # the fifth failure locks the IP
        # Locked: even the right password gets 454, quickly.
        reply, took = timed(c, "AUTH PLAIN " + plain("alice@example.test", "secret"))
        assert reply.startswith("454 4.7.0"), reply
        c.close()
        # Another worker connection, same IP: still locked.
        c = starttls(p.submission_port)
        assert c.cmd("AUTH PLAIN " + plain("bob@example.test", "secret"))[-1] \
            .startswith("454")
        # Another IP is not.
        d = starttls(p.submission_port, source="127.0.0.9")
        assert d.cmd("AUTH PLAIN " + plain("bob@example.test", "secret"))[-1] \
            .startswith("235")
        d.close()
        # The lockout ends.
        time.sleep(3.2)
        assert c.cmd("AUTH PLAIN " + plain("alice@example.test", "secret"))[-1] \
            .startswith("235")
        c.close()
        log = p.read_log()
        assert "event=auth-lockout" in log and "failures=5" in log
    finally:
        assert p.stop() == 0
        p.check_log_clean()


def test_lockout_per_user_across_addresses():
    p = auth_petrel({"backend": "sqlite"},
                    failures="{delay_ms: 0, lockout_after_ip: 100, "
                             "lockout_after_user: 4, lockout: 1h}")
    try:
        # Four addresses, one guess each: the user name is what is counted,
        # and a name that does not exist is counted just the same.
        for name in ("alice@example.test", "nobody@example.test"):
            for i in range(4):
                c = starttls(p.submission_port, source="127.0.0.%d" % (20 + i))
                assert c.cmd("AUTH PLAIN " + plain(name, "bad"))[-1].startswith("535")
                c.close()
            c = starttls(p.submission_port, source="127.0.0.30")
            assert c.cmd("AUTH PLAIN " + plain(name, "secret"))[-1].startswith("454")
            c.close()
        c = starttls(p.submission_port, source="127.0.0.30")
        assert c.cmd("AUTH PLAIN " + plain("bob@example.test", "secret"))[-1] \
            .startswith("235")
        c.close()
    finally:
        assert p.stop() == 0
        p.check_log_clean()


def test_no_enumeration_by_reply_or_timing():
    p = auth_petrel({"backend": "sqlite"},
                    failures="{delay_ms: 0, lockout_after_ip: 0, lockout_after_user: 0}")
    try:
        compare_failures(p)
    finally:
        assert p.stop() == 0
        p.check_log_clean()


def compare_failures(p):
    c = starttls(p.submission_port)
    known, unknown = [], []
    for i in range(7):
        for name, samples in (("alice@example.test", known),
                              ("nobody@example.test", unknown)):
            # A new guess each time: the credential cache remembers a
            # failed password (for known and unknown names alike), and
            # this compares the verifications themselves.
            reply, took = timed(c, "AUTH PLAIN " + plain(name, "wrong-%d" % i))
            assert reply == "535 5.7.8 Authentication credentials invalid"
            samples.append(took)
    # An unknown user costs an argon2id verification too.
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.6 < ratio < 1.6, (known, unknown)
    c.close()


# --- configuration switches ------------------------------------------------

def test_plaintext_on_loopback_and_no_sender_check():
    p = auth_petrel({"backend": "sqlite", "plaintext_on_loopback": "true"},
                    sender_check="none")
    try:
        c = Raw(p.submission_port)  # no TLS: loopback only, by choice
        assert "PLAIN" in auth_line(c.cmd("EHLO client.test"))
        assert c.cmd("AUTH PLAIN " + plain("alice@example.test", "secret"))[-1] \
            .startswith("235")
        # sender_check: none lets her use any sender.
        assert c.cmd("MAIL FROM:<ceo@elsewhere.example>")[-1].startswith("250")
        c.close()
        effective = p.cli("check-config").stdout
        assert "plaintext_on_loopback: true" in effective
        assert "sender_check: none" in effective
    finally:
        assert p.stop() == 0
        p.check_log_clean()
