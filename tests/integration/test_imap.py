"""IMAP (src/imapd): sessions driven by Python's imaplib and by exact
bytes — login rules, STARTTLS injection, folders, FETCH, STORE, SEARCH,
COPY/MOVE, APPEND, IDLE woken by a delivery, two sessions watching one
folder, and the bad input issue 12 names."""

import imaplib
import os
import re
import smtplib
import socket
import time

import pytest

from conftest import SANITIZED, SLOW, LineClient, client_tls_context, wait_for

# Memory figures mean nothing under ASan (shadow memory, a quarantine of
# freed blocks): the plain build checks them, the sanitized one the rest.

USER = "test@example.test"


class RawImap(LineClient):
    """Exact bytes in, lines (bytes) out."""

    def __init__(self, port, tls=False, timeout=10, cert=None):
        super().__init__(port, tls=tls, timeout=timeout, cert=cert)
        self.greeting = self.line()

    line = LineClient.read_line

    def until_tagged(self, tag):
        """Lines up to and including the one tagged tag."""
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            # a literal: its octets follow the line
            m = re.search(rb"\{(\d+)\}$", line)
            if m:
                size = int(m.group(1))
                while len(self.buffer) < size:
                    chunk = self.sock.recv(65536)
                    if not chunk:
                        raise EOFError("closed in a literal")
                    self.buffer += chunk
                lines.append(self.buffer[:size])
                self.buffer = self.buffer[size:]
                continue
            if line.startswith(tag.encode() + b" "):
                return lines

    def cmd(self, tag, text):
        self.send(tag.encode() + b" " + (text if isinstance(text, bytes) else text.encode())
                  + b"\r\n")
        return self.until_tagged(tag)



def login_raw(server, tls=True):
    raw = RawImap(server.imap_port)
    if tls:
        assert raw.cmd("s", "STARTTLS")[-1].startswith(b"s OK")
        raw.starttls()
    assert raw.cmd("l", "LOGIN %s %s" % (USER, server.password))[-1].startswith(b"l OK")
    return raw


def deliver(server, to=USER, subject="hello", body="hello imap\r\n", extra=""):
    with smtplib.SMTP("127.0.0.1", server.plain_port, timeout=10 * SLOW) as s:
        s.sendmail("sender@client.test", [to],
                   "From: Sender <sender@client.test>\r\nTo: %s\r\nSubject: %s\r\n"
                   "Date: Thu, 03 Dec 2026 10:00:00 +0000\r\n%s\r\n%s" %
                   (to, subject, extra, body))


def wait_delivered(server, count, user=USER):
    box = server.mailbox(user)

    def found():
        n = 0
        for sub in ("new", "cur"):
            path = os.path.join(box, sub)
            n += len(os.listdir(path)) if os.path.isdir(path) else 0
        return n >= count
    assert wait_for(found), server.read_log()[-3000:]


@pytest.fixture
def server(make_petrel):
    return make_petrel(imap=True)


def test_greeting_and_login_rules(server):
    raw = RawImap(server.imap_port)
    assert raw.greeting.startswith(b"* OK [CAPABILITY IMAP4rev1 IMAP4rev2")
    caps = raw.cmd("a", "CAPABILITY")
    assert b"STARTTLS" in caps[0] and b"LOGINDISABLED" in caps[0]
    assert b"AUTH=" not in caps[0]
    # No login in the clear (RFC 9051 6.2.3): NO, and the password is not checked.
    assert raw.cmd("b", "LOGIN %s %s" % (USER, server.password))[-1].startswith(
        b"b NO [PRIVACYREQUIRED]")
    assert raw.cmd("c", "AUTHENTICATE PLAIN")[-1].startswith(b"c NO [PRIVACYREQUIRED]")
    assert raw.cmd("d", "SELECT INBOX")[-1] == b"d BAD Log in first"
    assert raw.cmd("e", "STARTTLS")[-1].startswith(b"e OK")
    raw.starttls()
    caps = raw.cmd("f", "CAPABILITY")
    assert b"AUTH=PLAIN" in caps[0] and b"LOGINDISABLED" not in caps[0]
    assert b"STARTTLS" not in caps[0]
    assert raw.cmd("g", "LOGIN %s wrong" % USER)[-1].startswith(
        b"g NO [AUTHENTICATIONFAILED]")
    ok = raw.cmd("h", "LOGIN %s %s" % (USER, server.password))[-1]
    assert ok.startswith(b"h OK [CAPABILITY IMAP4rev1") and b"IDLE" in ok
    assert raw.cmd("i", "LOGIN %s %s" % (USER, server.password))[-1] == \
        b"i BAD Already logged in"
    out = raw.cmd("j", "LOGOUT")
    assert out[0].startswith(b"* BYE") and out[-1].startswith(b"j OK")
    assert raw.closed()
    log = server.read_log()
    assert "event=auth" in log and "protocol=imap" in log


def test_implicit_tls_and_authenticate(server):
    raw = RawImap(server.imaps_port, tls=True)
    assert raw.greeting.startswith(b"* OK [CAPABILITY")
    import base64
    token = base64.b64encode(b"\0" + USER.encode() + b"\0" + server.password.encode())
    # SASL-IR (RFC 4959): the response on the command line.
    assert raw.cmd("a", b"AUTHENTICATE PLAIN " + token)[-1].startswith(b"a OK")
    raw.close()
    raw = RawImap(server.imaps_port, tls=True)
    raw.send(b"a AUTHENTICATE PLAIN\r\n")
    assert raw.line() == b"+ "
    raw.send(token + b"\r\n")
    assert raw.until_tagged("a")[-1].startswith(b"a OK")
    raw.close()
    raw = RawImap(server.imaps_port, tls=True)
    raw.send(b"b AUTHENTICATE PLAIN\r\n")
    assert raw.line() == b"+ "
    raw.send(b"*\r\n")
    assert raw.until_tagged("b")[-1].startswith(b"b BAD")
    raw.close()


def test_starttls_injection_discarded(server):
    """Commands pipelined behind STARTTLS were sent in the clear: they must
    never run inside TLS (CVE-2011-0411 and its IMAP cousins)."""
    raw = RawImap(server.imap_port)
    raw.send(b"a STARTTLS\r\nb LOGIN %s %s\r\nc CAPABILITY\r\n"
             % (USER.encode(), server.password.encode()))
    assert raw.line().startswith(b"a OK")
    raw.starttls()
    out = raw.cmd("d", "NOOP")
    assert out == [b"d OK NOOP completed"], out
    # Still not logged in: the pipelined LOGIN never ran.
    assert raw.cmd("e", "SELECT INBOX")[-1] == b"e BAD Log in first"


def test_mail_flow_with_imaplib(server):
    # One at a time: the queue delivers in parallel, so two messages sent
    # together may reach the Maildir in either order.
    deliver(server, subject="first")
    wait_delivered(server, 1)
    deliver(server, subject="second", body="the body mentions kiwi\r\n")
    wait_delivered(server, 2)
    m = server.imap()
    typ, data = m.select("INBOX")
    assert (typ, data) == ("OK", [b"2"])
    typ, data = m.fetch("1:*", "(FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)")
    assert typ == "OK" and len(data) == 2
    assert b'"first"' in data[0] and b"\\Recent" in data[0]
    assert b'((\"Sender\" NIL \"sender\" \"client.test\"))' in data[0]
    typ, data = m.fetch("2", "(BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (Subject)] BODY[TEXT])")
    assert b'BODYSTRUCTURE ("text" "plain"' in data[0][0]
    assert data[0][1] == b"Subject: second\r\n\r\n"
    assert data[1][1] == b"the body mentions kiwi\r\n"
    assert b"\\Seen" in data[2]  # BODY[TEXT] without PEEK sets \Seen
    typ, data = m.fetch("1", "(BODY.PEEK[]<0.10>)")
    assert data[0][0].endswith(b"BODY[]<0> {10}") and len(data[0][1]) == 10
    assert m.search(None, "UNSEEN") == ("OK", [b"1"])
    assert m.search(None, "BODY", "kiwi") == ("OK", [b"2"])
    assert m.search(None, "SUBJECT", "FIRST") == ("OK", [b"1"])
    assert m.search(None, "OR", "SUBJECT", "first", "SUBJECT", "second") == ("OK", [b"1 2"])
    assert m.search(None, "SENTON", "3-Dec-2026") == ("OK", [b"1 2"])
    typ, data = m.uid("SEARCH", "RETURN", "(MIN MAX COUNT)", "ALL")
    typ, data = m.response("ESEARCH")  # imaplib files it apart
    assert data[0].endswith(b"UID MIN 1 MAX 2 COUNT 2"), data
    typ, data = m.store("1", "+FLAGS", "(\\Flagged $Work)")
    assert typ == "OK" and b"\\Flagged" in data[0] and b"$Work" in data[0]
    assert m.search(None, "KEYWORD", "$Work") == ("OK", [b"1"])
    # The flags are in the file name (Maildir: the files are the truth).
    cur = os.path.join(server.mailbox(USER), "cur")
    assert any(re.search(r":2,F[S]?a$", n) for n in os.listdir(cur)), os.listdir(cur)
    typ, data = m.copy("1", "Archive")
    assert typ == "OK" and data[0].startswith(b"[COPYUID ")
    typ, data = m.uid("MOVE", "2", "Trash")
    assert typ == "OK"
    assert m.select("INBOX") == ("OK", [b"1"])
    assert m.status("Archive", "(MESSAGES UNSEEN UIDNEXT)") == \
        ("OK", [b'"Archive" (MESSAGES 1 UIDNEXT 2 UNSEEN 1)'])
    typ, data = m.append("Sent", "(\\Seen)", imaplib.Time2Internaldate(1700000000),
                         b"Subject: appended\r\n\r\nbody\r\n")
    assert typ == "OK" and data[0].startswith(b"[APPENDUID ")
    m.select("Sent")
    typ, data = m.fetch("1", "(FLAGS INTERNALDATE)")
    assert b"\\Seen" in data[0] and b'"14-Nov-2023 22:13:20 +0000"' in data[0]
    # Folders: hierarchy, rename, delete.
    assert m.create("Projects.2026")[0] == "OK"
    typ, data = m.list('""', "Projects*")
    assert data == [b'(\\HasChildren) "." "Projects"', b'(\\HasNoChildren) "." "Projects.2026"']
    assert m.rename("Projects", "Old")[0] == "OK"
    assert m.list('""', "Old.%")[1] == [b'(\\HasNoChildren) "." "Old.2026"']
    assert m.delete("Old.2026")[0] == "OK"
    typ, data = m.create("Sent")
    assert typ == "NO" and b"[ALREADYEXISTS]" in data[0]
    typ, data = m.list('""', "*")
    assert b'(\\HasNoChildren \\Sent) "." "Sent"' in data
    m.select("INBOX")
    m.store("1", "+FLAGS", "\\Deleted")
    typ, data = m.expunge()
    assert data == [b"1"]
    m.logout()


def test_unicode_folder_names(server):
    m = server.imap()
    # modified UTF-7 on the wire, UTF-8 in the store, mUTF-7 on disk
    assert m.create("&AMQ-rger")[0] == "OK"
    assert os.path.isdir(os.path.join(server.mailbox(USER), ".&AMQ-rger"))
    assert b'"&AMQ-rger"' in b" ".join(m.list('""', "*")[1])
    m.logout()


def test_two_sessions_and_a_delivery(server):
    a, b = server.imap(), server.imap()
    assert a.select("INBOX")[1] == [b"0"]
    assert b.select("INBOX")[1] == [b"0"]
    deliver(server)
    wait_delivered(server, 1)
    for m in (a, b):
        assert wait_for(lambda: m.noop() and m.response("EXISTS")[1] != [None])
    a.fetch("1", "(FLAGS)")
    a.store("1", "+FLAGS", "\\Seen")
    b.noop()
    # b hears of a's flags change (untagged FETCH)
    typ, data = b.response("FETCH")
    assert data[0] is not None and b"\\Seen" in data[0], data
    a.store("1", "+FLAGS", "\\Deleted")
    a.expunge()
    b.noop()
    assert b.response("EXPUNGE")[1] == [b"1"]
    a.logout()
    b.logout()


def test_idle_woken_by_delivery(server):
    raw = login_raw(server)
    assert raw.cmd("a", "SELECT INBOX")[-1].startswith(b"a OK")
    raw.send(b"b IDLE\r\n")
    assert raw.line() == b"+ idling"
    start = time.time()
    deliver(server)
    line = raw.line()
    elapsed = time.time() - start
    assert line == b"* 1 EXISTS", line
    assert elapsed < 1.0 * SLOW, elapsed
    raw.send(b"DONE\r\n")
    out = raw.until_tagged("b")
    assert out[-1] == b"b OK Idle completed"
    raw.close()


def test_condstore_and_qresync(server):
    deliver(server)
    deliver(server)
    wait_delivered(server, 2)
    raw = login_raw(server)
    raw.cmd("e", "ENABLE QRESYNC")
    out = raw.cmd("a", "SELECT INBOX")
    validity = int(re.search(rb"UIDVALIDITY (\d+)", b" ".join(out)).group(1))
    modseq = int(re.search(rb"HIGHESTMODSEQ (\d+)", b" ".join(out)).group(1))
    out = raw.cmd("b", "STORE 1 +FLAGS.SILENT (\\Seen)")
    assert re.match(rb"\* 1 FETCH \(MODSEQ \(\d+\)\)", out[0]), out
    out = raw.cmd("c", "STORE 2 (UNCHANGEDSINCE 1) +FLAGS (\\Flagged)")
    assert out[-1].startswith(b"c OK [MODIFIED 2]"), out
    raw.cmd("d", "STORE 2 +FLAGS (\\Deleted)")
    raw.cmd("f", "EXPUNGE")
    out = raw.cmd("g", "UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % modseq)
    assert b"* VANISHED (EARLIER) 2" in out and any(b"UID 1" in l for l in out), out
    raw.cmd("h", "UNSELECT")
    out = raw.cmd("i", "SELECT INBOX (QRESYNC (%d %d))" % (validity, modseq))
    assert b"* VANISHED (EARLIER) 2" in out, out
    assert any(l.startswith(b"* 1 FETCH (UID 1 FLAGS (\\Seen") for l in out), out
    raw.close()


# --- bad input: the actual bytes --------------------------------------------


def test_literal_limits_before_login(server):
    raw = RawImap(server.imap_port)
    # A synchronising literal over the pre-login limit: refused before a
    # single octet is read (no "+" is sent).
    raw.send(b"a LOGIN {100000}\r\n")
    assert raw.line().startswith(b"a BAD [TOOBIG]")
    # A refused non-synchronising literal: its octets are consumed, never
    # executed as commands (LITERAL- allows 4096 at most anyway).
    smuggled = b"x" * 9000 + b"\r\nz LOGOUT\r\n" + b"y" * 100
    raw.send(b"b LOGIN {%d+}\r\n" % len(smuggled) + smuggled + b" pw\r\n")
    assert raw.line().startswith(b"b BAD")
    out = raw.cmd("c", "NOOP")
    assert out == [b"c OK NOOP completed"], out
    raw.close()


def test_malformed_commands(server):
    raw = login_raw(server)
    assert raw.cmd("a", b"LIST " + b"(" * 100 + b"\"\" *")[-1].startswith(b"a BAD")
    assert raw.cmd("b", b"NOOP " + b"x" * 70000)[-1].startswith(b"b BAD")
    assert raw.cmd("c", b"SELECT \"IN\x00BOX\"")[-1].startswith(b"c BAD")
    assert raw.cmd("d", b"SELECT {5+}\r\nIN\x00OX")[-1].startswith(b"d BAD")
    assert raw.cmd("e", "FOOBAR")[-1] == b"e BAD Unknown command"
    assert raw.cmd("f", "NOOP")[-1] == b"f OK NOOP completed"
    raw.close()
    raw = RawImap(server.imap_port)
    raw.cmd("s", "STARTTLS")
    raw.starttls()
    # NUL inside credentials (CVE-2019-11500 was a NUL in a string)
    assert raw.cmd("a", b"LOGIN {18+}\r\ntest@example.test\x00 x")[-1].startswith(b"a BAD")
    raw.close()


@pytest.mark.parametrize("name", [
    b'".."', b'"a/b"', b'"/etc"', b'"~root"', b'"tmp"', b'"x.new"', b'"a..b"',
    b'"&Jjo"', b'"&AC4ALg-"', b'"&AC8-etc"', b'"%"', b'"x*"', b'""'])
def test_bad_mailbox_names(server, name):
    raw = login_raw(server)
    out = raw.cmd("a", b"CREATE " + name)
    assert out[-1].startswith(b"a NO") or out[-1].startswith(b"a BAD"), out
    # nothing appeared outside the user's Maildir, nor odd names inside it
    entries = os.listdir(server.mailbox(USER))
    assert not any(e in ("..", ".tmp", ".x.new") or "/" in e for e in entries), entries
    assert raw.cmd("b", "NOOP")[-1] == b"b OK NOOP completed"
    raw.close()


def test_sequence_sets(server):
    raw = login_raw(server)
    raw.cmd("a", "SELECT INBOX")
    # "*" on an empty mailbox
    assert raw.cmd("b", "FETCH * FLAGS")[-1].startswith(b"b BAD")
    assert raw.cmd("c", "UID FETCH * FLAGS")[-1].startswith(b"c OK")
    for _ in range(3):
        deliver(server)
    wait_delivered(server, 3)
    raw.cmd("d", "NOOP")
    assert raw.cmd("e", "FETCH 1:4294967295,*:1 FLAGS")[-1].startswith(b"e BAD")
    out = raw.cmd("f", "UID FETCH 1:4294967295,*:1 (FLAGS)")
    assert len([l for l in out if b" FETCH " in l]) == 3 and out[-1].startswith(b"f OK")
    assert raw.cmd("g", "UID FETCH 0 FLAGS")[-1].startswith(b"g BAD")
    assert raw.cmd("h", "FETCH 0 FLAGS")[-1].startswith(b"h BAD")
    assert raw.cmd("i", "FETCH 4294967296 FLAGS")[-1].startswith(b"i BAD")
    raw.close()


def test_search_nested_or_refused(server):
    raw = login_raw(server)
    raw.cmd("a", "SELECT INBOX")
    keys = b"OR " * 5000 + b"SEEN " * 5001
    assert raw.cmd("b", b"SEARCH " + keys)[-1].startswith(b"b BAD")
    assert raw.cmd("c", "NOOP")[-1] == b"c OK NOOP completed"
    raw.close()


def test_mime_bomb_bodystructure(server):
    """10,000 parts and 1,000 levels: BODYSTRUCTURE answers, bounded."""
    parts = "".join("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(10000))
    wide = ("Content-Type: multipart/mixed; boundary=b\r\n\r\n" + parts + "--b--\r\n")
    deep = "".join("Content-Type: multipart/mixed; boundary=d%d\r\n\r\n--d%d\r\n" % (i, i)
                   for i in range(1000)) + "Content-Type: text/plain\r\n\r\nbottom\r\n"
    m = server.imap()
    for body in (wide, deep):
        m.append("INBOX", None, None, ("Subject: bomb\r\n" + body).encode())
    m.select("INBOX")
    typ, data = m.fetch("1:2", "(BODYSTRUCTURE)")
    assert typ == "OK" and len(data) == 2
    assert len(data[0]) < 2000000
    assert m.noop()[0] == "OK"
    m.logout()


def test_client_that_does_not_read_fetch(server):
    """A FETCH whose output the client never reads: the server's buffer
    stays bounded and others are served meanwhile."""
    m = server.imap()
    big = b"Subject: big\r\n\r\n" + (b"y" * 998 + b"\r\n") * 2000  # 2 MB
    for _ in range(10):
        m.append("INBOX", None, None, big)
    m.logout()
    from conftest import rss_kib, worker_pids
    raw = login_raw(server)
    raw.cmd("a", "SELECT INBOX")
    raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    before = max(rss_kib(p) for p in worker_pids(server))
    raw.send(b"b FETCH 1:* BODY.PEEK[]\r\n")
    time.sleep(1 * SLOW)
    # the worker's memory did not grow by the 20 MB asked for: what waits
    # for the client is bounded by the connection's high-water mark
    grown = max(rss_kib(p) for p in worker_pids(server)) - before
    assert SANITIZED or grown < 8 * 1024, grown
    other = server.imap()
    assert other.select("INBOX") == ("OK", [b"10"])
    other.logout()
    raw.close()


def test_append_streamed_and_refused(server):
    raw = login_raw(server)
    # A large message is streamed (over the inline literal limit).
    body = b"Subject: s\r\n\r\n" + b"z" * 200000 + b"\r\n"
    raw.send(b"a APPEND INBOX {%d}\r\n" % len(body))
    assert raw.line().startswith(b"+ ")
    raw.send(body + b"\r\n")
    out = raw.until_tagged("a")
    assert out[-1].startswith(b"a OK [APPENDUID "), out
    # To a folder that does not exist: NO [TRYCREATE] before the octets
    # (synchronising: never sent; non-synchronising: skipped).
    raw.send(b"b APPEND Nowhere {200000}\r\n")
    assert raw.line().startswith(b"b NO [TRYCREATE]")
    raw.send(b"c APPEND Nowhere {%d+}\r\n" % len(body) + body + b"\r\n")
    assert raw.line().startswith(b"c NO [TRYCREATE]")
    assert raw.cmd("d", "NOOP")[-1] == b"d OK NOOP completed"
    # Over APPENDLIMIT: refused outright.
    raw.send(b"e APPEND INBOX {999999999999}\r\n")
    assert raw.line().startswith(b"e BAD [TOOBIG]")
    raw.close()


def test_append_sync_keeps_order_and_drops_the_abandoned(server):
    """An APPEND's octets are synced on a thread: the commands pipelined
    behind it wait and are answered in order; a client that goes away
    meanwhile leaves nothing in tmp/ and the server serving."""
    raw = login_raw(server)
    assert raw.cmd("s", "SELECT INBOX")[-1].startswith(b"s OK")
    small = b"Subject: p\r\n\r\nsmall\r\n"
    big = b"Subject: q\r\n\r\n" + (b"y" * 998 + b"\r\n") * 2000
    raw.send(b"a APPEND INBOX {%d+}\r\n" % len(big) + big + b"\r\n" +
             b"b APPEND INBOX (\\Seen) {%d+}\r\n" % len(small) + small + b"\r\n" +
             b"c UID FETCH 1:* (FLAGS RFC822.SIZE)\r\nd NOOP\r\n")
    a = raw.until_tagged("a")
    assert a[-1].startswith(b"a OK [APPENDUID "), a
    b = raw.until_tagged("b")
    assert b[-1].startswith(b"b OK [APPENDUID "), b
    c = raw.until_tagged("c")
    assert len([l for l in c if b" FETCH (" in l]) == 2, c
    assert b"\\Seen" in c[-2] and b"RFC822.SIZE %d" % len(big) in c[-3], c
    assert raw.until_tagged("d")[-1].startswith(b"d OK")
    raw.close()
    # Clients that send a message and leave at once, at every stage.
    for i in range(20):
        gone = login_raw(server)
        gone.send(b"x APPEND INBOX {%d+}\r\n" % len(big) + big[:len(big) * i // 20])
        if i % 2:
            gone.send(big[len(big) * i // 20:] + b"\r\n")
        gone.close()
    tmp = os.path.join(server.mailbox(USER), "tmp")
    assert wait_for(lambda: os.listdir(tmp) == []), os.listdir(tmp)
    other = server.imap()
    typ, data = other.select("INBOX")
    assert typ == "OK" and 2 <= int(data[0]) <= 12, data
    other.logout()
    server.check_log_clean()


def test_metrics_and_command_log(make_petrel):
    """IMAP and POP3 commands are counted and timed in /metrics, labelled
    only by names petrel knows (an unknown command is "unknown")."""
    import urllib.request
    server = make_petrel(imap=True, pop3=True, http=True)
    raw = login_raw(server)
    raw.cmd("a", "SELECT INBOX")
    raw.cmd("b", "NOOP")
    raw.cmd("c", "XYZZYATTACKERNAME")
    raw.close()
    import poplib
    p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10 * SLOW)
    p.stls(context=client_tls_context())
    p.user(USER)
    p.pass_(server.password)
    p.stat()
    p.quit()
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % server.http_port,
                                  timeout=10).read().decode()
    assert 'petrel_mailbox_commands_total{protocol="imap",command="SELECT",result="ok"} 1' \
        in text, text
    assert 'command="unknown",result="bad"' in text
    assert "XYZZY" not in text
    assert 'petrel_mailbox_commands_total{protocol="pop3",command="STAT",result="ok"} 1' \
        in text
    assert 'petrel_mailbox_command_duration_seconds_count{protocol="imap",command="NOOP"} 1' \
        in text
    # the refused command's log line names it (quoted), with the user
    assert re.search(r"event=imap-command session=\w+ user=test@example.test "
                     r"command=XYZZYATTACKERNAME result=bad duration=", server.read_log()), \
        server.read_log()[-2000:]


def test_sort_and_thread(server):
    """SORT and THREAD (RFC 5256): REFERENCES links by Message-ID and
    References, then joins roots with one base subject."""
    msgs = [  # subject, message-id, references header, hour, from
        ("Hello", "<a@x>", "", 10, "carol@x.test"),
        ("Re: Hello", "<b@x>", "In-Reply-To: <a@x>\r\n", 11, "bob@x.test"),
        ("Other", "<c@x>", "", 9, "alice@x.test"),
        ("Re: Hello", "<d@x>", "References: <a@x> <b@x>\r\n", 12, "dave@x.test"),
        ("Re: Other", "<e@x>", "References: <c@x>\r\n", 13, "erin@x.test"),
        ("Hello", "<f@x>", "", 14, "frank@x.test"),
    ]
    m = server.imap()
    for subject, mid, refs, hour, sender in msgs:
        m.append("INBOX", None, None, (
            "From: %s\r\nSubject: %s\r\nMessage-ID: %s\r\n%s"
            "Date: Thu, 1 Jan 2026 %02d:00:00 +0000\r\n\r\nbody\r\n"
            % (sender, subject, mid, refs, hour)).encode())
    m.select("INBOX")
    assert m.sort("(SUBJECT)", "UTF-8", "ALL") == ("OK", [b"1 2 4 6 3 5"])
    assert m.sort("(REVERSE DATE)", "UTF-8", "ALL") == ("OK", [b"6 5 4 2 1 3"])
    assert m.sort("(FROM)", "US-ASCII", "NOT", "FROM", "frank") == ("OK", [b"3 2 1 4 5"])
    typ, data = m.uid("SORT", "(SIZE SUBJECT)", "UTF-8", "ALL")
    assert typ == "OK" and len(data[0].split()) == 6
    typ, data = m.sort("(DATE)", "KOI8-R", "ALL")
    assert typ == "NO" and b"[BADCHARSET" in data[0]
    assert m.thread("REFERENCES", "UTF-8", "ALL") == ("OK", [b"(3 5)((1 2 4)(6))"])
    assert m.thread("ORDEREDSUBJECT", "UTF-8", "ALL") == ("OK", [b"(3 5)(1 (2)(4)(6))"])
    # a References loop is refused link by link, not followed
    m.append("INBOX", None, None, b"Subject: loop\r\nMessage-ID: <l1@x>\r\n"
             b"References: <l2@x>\r\n\r\nx\r\n")
    m.append("INBOX", None, None, b"Subject: loop\r\nMessage-ID: <l2@x>\r\n"
             b"References: <l1@x>\r\n\r\nx\r\n")
    m.noop()
    typ, data = m.thread("REFERENCES", "UTF-8", "SUBJECT", "loop")
    assert typ == "OK" and data[0] in (b"(7 8)", b"(8 7)"), data
    m.logout()


class Deflated:
    """RFC 4978 on a RawImap: raw deflate both ways."""

    def __init__(self, raw):
        import zlib
        self.raw = raw
        self.out = zlib.compressobj(wbits=-15)
        self.inflate = zlib.decompressobj(wbits=-15)
        self.plain = raw.buffer  # anything left was compressed already
        raw.buffer = b""
        self.plain = self.inflate.decompress(self.plain)

    def send(self, data):
        import zlib
        self.raw.sock.sendall(self.out.compress(data) + self.out.flush(zlib.Z_SYNC_FLUSH))

    def line(self):
        while b"\r\n" not in self.plain:
            chunk = self.raw.sock.recv(65536)
            if not chunk:
                raise EOFError(self.plain)
            self.plain += self.inflate.decompress(chunk)
        line, self.plain = self.plain.split(b"\r\n", 1)
        return line

    def until_tagged(self, tag):
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            m = re.search(rb"\{(\d+)\}$", line)
            if m:
                size = int(m.group(1))
                while len(self.plain) < size:
                    self.plain += self.inflate.decompress(self.raw.sock.recv(65536))
                lines.append(self.plain[:size])
                self.plain = self.plain[size:]
            elif line.startswith(tag.encode() + b" "):
                return lines

    def cmd(self, tag, text):
        self.send(tag.encode() + b" " + text.encode() + b"\r\n")
        return self.until_tagged(tag)


def test_compress_deflate(server):
    for i in range(20):
        deliver(server, subject="compressible %d" % i, body="the same words again\r\n" * 50)
    wait_delivered(server, 20)
    raw = login_raw(server)  # inside TLS: compression under it
    assert raw.cmd("a", "COMPRESS DEFLATE")[-1] == b"a OK DEFLATE active"
    z = Deflated(raw)
    out = z.cmd("b", "SELECT INBOX")
    assert b"* 20 EXISTS" in out and out[-1].startswith(b"b OK")
    out = z.cmd("c", "FETCH 1:* (ENVELOPE BODY.PEEK[])")
    assert len([l for l in out if b" FETCH (" in l]) == 20 and out[-1].startswith(b"c OK")
    assert any(b"the same words again" in l for l in out)
    assert z.cmd("d", "COMPRESS DEFLATE")[-1].startswith(b"d NO [COMPRESSIONACTIVE]")
    # An inflation bomb: 50 MB of one line that compresses to little. The
    # line is refused and the session goes on, memory bounded.
    import zlib
    from conftest import rss_kib, worker_pids
    before = max(rss_kib(p) for p in worker_pids(server))
    chunk = b"e NOOP " + b"x" * (1024 * 1024)
    z.raw.sock.sendall(z.out.compress(chunk))
    for _ in range(49):
        z.raw.sock.sendall(z.out.compress(b"x" * (1024 * 1024)))
    z.raw.sock.sendall(z.out.compress(b"\r\n") + z.out.flush(zlib.Z_SYNC_FLUSH))
    assert z.until_tagged("e")[-1].startswith(b"e BAD")
    assert z.cmd("f", "NOOP")[-1] == b"f OK NOOP completed"
    grown = max(rss_kib(p) for p in worker_pids(server)) - before
    assert SANITIZED or grown < 8 * 1024, grown
    raw.close()


def test_binary(server):
    """BINARY (RFC 3516, part of IMAP4rev2): parts decoded from base64 and
    quoted-printable, as literal8, with BINARY.SIZE and partials."""
    import base64
    payload = bytes(range(256)) * 4
    message = (b"Subject: binary\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n"
               b"--z\r\nContent-Type: text/plain\r\n"
               b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
               b"caf=C3=A9 au lait=\r\n, please\r\n"
               b"--z\r\nContent-Type: application/octet-stream\r\n"
               b"Content-Transfer-Encoding: base64\r\n\r\n" +
               base64.encodebytes(payload).replace(b"\n", b"\r\n") +
               b"--z\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n"
               b"\r\nbegin 644 x\r\n--z--\r\n")
    m = server.imap()
    m.append("INBOX", None, None, message)
    m.logout()
    raw = login_raw(server)
    raw.cmd("a", "SELECT INBOX")
    out = raw.cmd("b", "FETCH 1 (BINARY.SIZE[1] BINARY.SIZE[2])")
    assert b"BINARY.SIZE[1] 21" in out[0] and b"BINARY.SIZE[2] 1024" in out[0], out
    out = raw.cmd("c", "FETCH 1 (BINARY.PEEK[1])")
    assert out[0].endswith(b"BINARY[1] ~{21}") and out[1] == "café au lait, please".encode()
    out = raw.cmd("d", "FETCH 1 (BINARY.PEEK[2]<1000.100>)")
    assert out[0].endswith(b"BINARY[2]<1000> ~{24}") and out[1] == payload[1000:], out[0]
    out = raw.cmd("e", "FETCH 1 (BINARY.PEEK[3])")
    assert out[-1].startswith(b"e NO [UNKNOWN-CTE]"), out
    raw.close()


def imap_scram(raw, tag, user, password):
    """SCRAM-SHA-256 (RFC 5802, 7677) over AUTHENTICATE with SASL-IR;
    the last tagged line."""
    import base64
    import hashlib
    import hmac
    import os as _os
    b64 = lambda b: base64.b64encode(b if isinstance(b, bytes) else b.encode()).decode()
    mac = lambda k, t: hmac.new(k, t.encode(), hashlib.sha256).digest()
    cnonce = b64(_os.urandom(18))
    first_bare = "n=%s,r=%s" % (user, cnonce)
    raw.send(("%s AUTHENTICATE SCRAM-SHA-256 %s\r\n" % (tag, b64("n,," + first_bare))).encode())
    line = raw.line()
    assert line.startswith(b"+ "), line
    server_first = base64.b64decode(line[2:]).decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attrs["s"]),
                                 int(attrs["i"]))
    client_key = mac(salted, "Client Key")
    without_proof = "c=%s,r=%s" % (b64("n,,"), attrs["r"])
    auth_message = ",".join([first_bare, server_first, without_proof])
    signature = mac(hashlib.sha256(client_key).digest(), auth_message)
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    raw.send((b64(without_proof + ",p=" + b64(proof)) + "\r\n").encode())
    line = raw.line()
    if line.startswith(b"+ "):  # server-final, then an empty response
        expected = b64(mac(mac(salted, "Server Key"), auth_message))
        assert base64.b64decode(line[2:]).decode() == "v=" + expected
        raw.send(b"\r\n")
        line = raw.line()
    return line


def test_scram_login_and_lockout(make_petrel):
    """Every SASL mechanism goes through the auth process: SCRAM over
    IMAP; failed logins meet the same lockout as SMTP's."""
    server = make_petrel(imap=True, auth={
        "mechanisms": "[PLAIN, LOGIN, SCRAM-SHA-256]",
        "failures": "{delay_ms: 0, lockout_after_user: 3, lockout: 60s}"})
    raw = RawImap(server.imap_port)
    raw.cmd("s", "STARTTLS")
    raw.starttls()
    assert imap_scram(raw, "a", USER, server.password).startswith(b"a OK")
    raw.close()
    raw = RawImap(server.imap_port)
    raw.cmd("s", "STARTTLS")
    raw.starttls()
    # AUTHENTICATE LOGIN: two challenges, then the result
    import base64
    raw.send(b"b AUTHENTICATE LOGIN\r\n")
    assert raw.line().startswith(b"+ ")
    raw.send(base64.b64encode(USER.encode()) + b"\r\n")
    assert raw.line().startswith(b"+ ")
    raw.send(base64.b64encode(b"wrong") + b"\r\n")
    assert raw.line().startswith(b"b NO [AUTHENTICATIONFAILED]")
    for tag in ("c", "d"):
        assert raw.cmd(tag, "LOGIN %s wrong" % USER)[-1].startswith(
            tag.encode() + b" NO [AUTHENTICATIONFAILED]")
    # Locked out now: even the right password is refused for a while.
    out = raw.cmd("e", "LOGIN %s %s" % (USER, server.password))[-1]
    assert out.startswith(b"e NO"), out
    assert "event=auth-lockout" in server.read_log()
    raw.close()


def test_list_extended(server):
    """LIST-EXTENDED (RFC 5258): selection and return options, CHILDINFO
    for a parent of a subscribed folder, LIST-STATUS, SPECIAL-USE."""
    raw = login_raw(server)
    raw.cmd("a", "CREATE Lists.Petrel")
    raw.cmd("b", "SUBSCRIBE Lists.Petrel")
    out = raw.cmd("c", 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"')
    assert b'* LIST (\\HasChildren) "." "Lists" ("CHILDINFO" ("SUBSCRIBED"))' in out, out
    out = raw.cmd("d", 'LIST (SUBSCRIBED) "" "*"')
    assert b'* LIST (\\HasNoChildren \\Subscribed) "." "Lists.Petrel"' in out, out
    assert not any(b'"Lists"' in l for l in out)
    out = raw.cmd("e", 'LIST (SPECIAL-USE) "" "*" RETURN (STATUS (MESSAGES UNSEEN))')
    assert b'* LIST (\\HasNoChildren \\Sent) "." "Sent"' in out
    assert b'* STATUS "Sent" (MESSAGES 0 UNSEEN 0)' in out
    assert not any(b"INBOX" in l for l in out), out
    assert raw.cmd("f", 'LIST (RECURSIVEMATCH) "" "*"')[-1].startswith(b"f BAD")
    out = raw.cmd("g", 'LIST "" ("INBOX" "Lists.*")')
    assert len([l for l in out if l.startswith(b"* LIST")]) == 2, out
    raw.close()
