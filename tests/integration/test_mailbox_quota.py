"""Quotas (issue 12): a user's storage quota is enforced at RCPT (452
4.2.2 once the mailbox is known to be full), at delivery (deferred with
4.2.2, never lost) and at APPEND ([OVERQUOTA]); GETQUOTAROOT reports it.
Usage is kept in the Maildir++ maildirsize file."""

import os
import smtplib

from conftest import SLOW, Raw, wait_for
from test_imap import RawImap, deliver, login_raw, wait_delivered

USER = "test@example.test"


def test_quota_everywhere(make_petrel):
    server = make_petrel(imap=True)
    assert server.cli("user", "quota", USER, "3000").returncode == 0
    deliver(server, body=("x" * 98 + "\r\n") * 10)
    wait_delivered(server, 1)
    # Another delivery fits; the next would not. The second delivery's
    # check counted the first: the count is kept in maildirsize from then.
    deliver(server, body=("y" * 98 + "\r\n") * 10)
    wait_delivered(server, 2)
    size_file = os.path.join(server.mailbox(USER), "maildirsize")
    assert wait_for(lambda: os.path.exists(size_file))
    with open(size_file) as f:
        assert f.readline() == "3000S\n"
    # 2 messages of ~1.3 KB: under 3000 still, so RCPT is taken; the
    # delivery finds the mailbox would go over: deferred, kept.
    deliver(server, body=("z" * 98 + "\r\n") * 15)
    log = server.wait_log("mailbox full (over quota)", timeout=10)
    assert "dsn=4.2.2" in log and "status=deferred" in log, log[-3000:]
    assert len(server.spool_files()) == 1
    # Over the quota on paper: RCPT refuses at once (452, try later).
    with open(size_file, "a") as f:
        f.write("2000 1\n")
    raw = Raw(server.plain_port)
    raw.cmd("EHLO client.test")
    raw.cmd("MAIL FROM:<a@client.test>")
    assert raw.cmd("RCPT TO:<%s>" % USER) == \
        ["452 4.2.2 <%s>: Recipient mailbox is full" % USER]
    raw.close()
    # IMAP: the quota root, and APPEND refused before its octets.
    imap = login_raw(server)
    out = imap.cmd("a", "GETQUOTAROOT INBOX")
    assert out[0] == b'* QUOTAROOT "INBOX" ""', out
    assert out[1].startswith(b'* QUOTA "" (STORAGE ') and out[1].endswith(b' 2)'), out
    # Storage is the one resource; setting it is the administrator's.
    caps = imap.cmd("q", "CAPABILITY")[0].split()
    assert b"QUOTA=RES-STORAGE" in caps and b"QUOTA=RES-MESSAGE" not in caps
    assert b"QUOTASET" not in caps
    assert imap.cmd("s", 'SETQUOTA "" (STORAGE 100000)') == \
        [b"s NO [NOPERM] Quotas are set by the administrator"]
    assert imap.cmd("t", "SETQUOTA")[-1].startswith(b"t BAD ")
    # A message streamed to disk (over the inline literal size) is
    # refused before its octets: "+" never comes.
    imap.send(b"b APPEND INBOX {100000}\r\n")
    assert imap.line() == b"b NO [OVERQUOTA] Quota exceeded"
    # A small one is read, then refused.
    imap.send(b"c APPEND INBOX {12}\r\n")
    assert imap.line().startswith(b"+")
    imap.send(b"Subject: x\r\n\r\n")
    assert imap.until_tagged("c")[-1] == b"c NO [OVERQUOTA] Quota exceeded"
    assert imap.cmd("d", "NOOP")[-1] == b"d OK NOOP completed"
    imap.close()
