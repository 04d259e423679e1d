"""The end-of-data stage: hooks see the message before it is queued, may
change its header section, and decide (accept, reject, defer, discard),
now or later from the event loop while the worker serves other clients.

Driven by the test hooks (src/smtpd/test_hooks.c), which only a build
configured with -Dtest_hooks=true has: `make test` runs these on its
sanitizer build; on another build they are skipped."""

import subprocess
import time

import pytest

from conftest import PETREL, QUEUED, SLOW, Raw, connect_from, read_line

HAS_HOOKS = "test hooks" in subprocess.run([PETREL, "--version"], capture_output=True,
                                           text=True).stdout
pytestmark = pytest.mark.skipif(not HAS_HOOKS, reason="petrel built without test hooks")


def transaction(c):
    c.cmd("EHLO client.test")
    assert c.cmd("MAIL FROM:<s@client.test>") == ["250 2.1.0 Ok"]
    assert c.cmd("RCPT TO:<test@example.test>") == ["250 2.1.5 Ok"]
    assert c.cmd("DATA")[0].startswith("354")


def send(c, headers, body=b"body\r\n"):
    transaction(c)
    return c.cmd(headers + b"\r\n" + body + b".\r\n")[-1]


def test_headers_changed_before_queueing(petrel):
    c = Raw(petrel.plain_port)
    reply = send(c, b"Subject: original\r\nX-Remove: me\r\nX-Keep: \t odd  spacing\r\n"
                    b"X-Test-Hook: add X-Added one\r\nX-Test-Hook: set Subject changed\r\n"
                    b"X-Test-Hook: delete X-Remove\r\n")
    assert QUEUED.match(reply), reply
    [msg] = petrel.wait_messages("test@example.test", 1)
    head, body = msg.split(b"\r\n\r\n", 1)
    assert body == b"body\r\n"
    lines = head.split(b"\r\n")
    # Ours on top: Return-Path, Delivered-To, Received; then the hooks'
    # fields, the last added first; then the received ones as edited.
    i = lines.index(b"X-Test-Second: ran")
    assert lines[i + 1] == b"X-Added: one"
    assert lines[i - 1].startswith(b"\t")  # the end of our Received field
    assert any(l.startswith(b"Received: from") for l in lines[:i])
    assert b"Subject: changed" in lines and b"Subject: original" not in lines
    assert not any(l.startswith(b"X-Remove") for l in lines)
    assert b"X-Keep: \t odd  spacing" in lines  # untouched: byte for byte


@pytest.mark.parametrize("size", [0, 200, 3 * 1024 * 1024 + 17])
def test_hooks_read_the_message_as_received(petrel, size):
    # The body streams to the spool file as it arrives; at end of data
    # the hooks read it back whole, header section and body, from there
    # (the last octets are written out first), even megabytes of it.
    import hashlib
    lines, total = [], 0
    n = 0
    while total < size:
        line = b"line %d: " % n + b"x" * 70 + b"\r\n"
        lines.append(line)
        total += len(line)
        n += 1
    body = b"".join(lines)
    header = b"Subject: digest\r\nX-Test-Hook: digest\r\n"
    received = header + b"\r\n" + body
    c = Raw(petrel.plain_port)
    stuffed = body.replace(b"\r\n.", b"\r\n..")
    assert QUEUED.match(send(c, header, stuffed))
    [msg] = petrel.wait_messages("test@example.test", 1)
    field = [l for l in msg.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
             if l.startswith(b"X-Test-Body:")]
    assert field == [b"X-Test-Body: %d %s" % (len(received),
                                               hashlib.sha256(received).hexdigest().encode())]
    assert msg.endswith(b"\r\n\r\n" + body)


@pytest.mark.parametrize("order,expect", [
    (b"reject", "554 5.7.1 Rejected by the test hook"),
    (b"defer", "451 4.7.1 Deferred by the test hook"),
])
def test_refusals(petrel, order, expect):
    c = Raw(petrel.plain_port)
    assert send(c, b"Subject: x\r\nX-Test-Hook: " + order + b"\r\n") == expect
    # Nothing kept, nothing left in the spool, and the session goes on.
    assert c.cmd("NOOP") == ["250 2.0.0 Ok"]
    assert QUEUED.match(send(c, b"Subject: fine\r\n"))
    msgs = petrel.wait_messages("test@example.test", 1)
    assert len(msgs) == 1 and b"Subject: fine" in msgs[0]
    time.sleep(0.3 * SLOW)
    assert petrel.tmp_files() == []
    log = petrel.read_log()
    assert "event=message-refused" in log and "hook=test-orders" in log


def test_discard_says_queued_and_keeps_nothing(petrel):
    c = Raw(petrel.plain_port)
    reply = send(c, b"Subject: x\r\nX-Test-Hook: discard\r\n")
    m = QUEUED.match(reply)
    assert m, reply
    assert "event=message-discarded" in petrel.wait_log("event=message-discarded")
    time.sleep(0.5 * SLOW)
    assert petrel.messages("test@example.test") == []
    assert petrel.spool_files() == [] and petrel.tmp_files() == []


def test_a_late_answer_does_not_block_the_worker(petrel):
    slow = Raw(petrel.plain_port)
    transaction(slow)
    start = time.monotonic()
    slow.send(b"Subject: slow\r\nX-Test-Hook: later 1500\r\n\r\nbody\r\n.\r\n")
    # Meanwhile another client is served at once by the same worker.
    fast = Raw(petrel.plain_port)
    assert QUEUED.match(send(fast, b"Subject: fast\r\n"))
    assert time.monotonic() - start < 1.2 * SLOW
    assert QUEUED.match(slow.reply()[-1])
    assert time.monotonic() - start >= 1.4
    assert len(petrel.wait_messages("test@example.test", 2)) == 2


def test_client_gone_while_a_hook_decides(petrel):
    c = Raw(petrel.plain_port)
    transaction(c)
    c.send(b"Subject: gone\r\nX-Test-Hook: later 500\r\n\r\nbody\r\n.\r\n")
    c.close()
    time.sleep(1.0 * SLOW)
    # The late answer found no session; nothing was queued or left behind.
    assert petrel.messages("test@example.test") == []
    assert petrel.tmp_files() == [] and petrel.spool_files() == []
    d = Raw(petrel.plain_port)
    assert QUEUED.match(send(d, b"Subject: after\r\n"))


# --- check -> hook -> proceed for the commands ------------------------------

def test_connect_stage(petrel):
    s = connect_from("127.0.0.66", petrel.plain_port)
    assert read_line(s) == b"554 5.7.1 Refused by the test hook\r\n"
    assert s.recv(1) == b""  # and closed
    s.close()
    assert Raw(petrel.plain_port).banner[0].startswith("220 ")


def test_helo_mail_rcpt_stages(make_petrel):
    # reject@ exists: the hooks come after the command's own checks.
    petrel = make_petrel(users=["test@example.test", "reject@example.test"])
    c = Raw(petrel.plain_port)
    assert c.cmd("EHLO reject.test") == ["554 5.7.1 Refused by the test hook"]
    assert c.cmd("MAIL FROM:<s@client.test>") == ["503 5.5.1 Error: send HELO/EHLO first"]
    start = time.monotonic()
    assert c.cmd("EHLO later.test")[-1].startswith("250 ")
    assert time.monotonic() - start >= 0.25
    assert c.cmd("MAIL FROM:<defer@client.test>") == ["451 4.7.1 Deferred by the test hook"]
    # Refused MAIL leaves no transaction behind.
    assert c.cmd("RCPT TO:<test@example.test>") == ["503 5.5.1 Error: need MAIL command"]
    assert c.cmd("MAIL FROM:<later@client.test>") == ["250 2.1.0 Ok"]
    assert c.cmd("RCPT TO:<reject@example.test>") == ["554 5.7.1 Refused by the test hook"]
    assert c.cmd("RCPT TO:<test@example.test>") == ["250 2.1.5 Ok"]
    # Pipelined commands wait for a hook that answers later, in order.
    c.send(b"RSET\r\nMAIL FROM:<s@client.test>\r\nRCPT TO:<test@example.test>\r\n"
           b"DATA\r\n")
    assert c.reply() == ["250 2.0.0 Ok"]
    assert c.reply() == ["250 2.1.0 Ok"]
    assert c.reply() == ["250 2.1.5 Ok"]
    assert c.reply()[0].startswith("354")
    assert QUEUED.match(c.cmd(b"Subject: pipelined\r\n\r\nx\r\n.\r\n")[-1])
    assert len(petrel.wait_messages("test@example.test", 1)) == 1
    log = petrel.read_log()
    assert "event=reject" in log and "hook=test-argument" in log


def test_auth_stage(make_petrel):
    import base64
    petrel = make_petrel(users=["test@example.test", "rejected@example.test"],
                         auth={"plaintext_on_loopback": "true"})
    c = Raw(petrel.plain_port)
    c.cmd("EHLO client.test")
    token = base64.b64encode(b"\0rejected@example.test\0secret").decode()
    # The password is right; the AUTH stage's hook still refuses the user.
    assert c.cmd("AUTH PLAIN " + token) == ["554 5.7.1 Refused by the test hook"]
    # Not logged in: relaying is still refused.
    assert c.cmd("MAIL FROM:<s@client.test>") == ["250 2.1.0 Ok"]
    assert c.cmd("RCPT TO:<x@elsewhere.example>")[0].startswith("550 5.7.1")
    c.cmd("RSET")
    token = base64.b64encode(b"\0test@example.test\0secret").decode()
    assert c.cmd("AUTH PLAIN " + token) == ["235 2.7.0 Authentication successful"]
