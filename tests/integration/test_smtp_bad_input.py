"""Every bad input named in the SMTP spine issue, sent as real bytes.
Each must get a clear error, lose nothing, and leave the server serving."""

import os
import socket
import ssl
import time

import pytest

from conftest import QUEUED, Raw, SLOW, client_tls_context


def greet(c, helo="client.test"):
    assert c.cmd("EHLO " + helo)[-1].startswith("250 ")


def start_transaction(c, rcpt="test@example.test"):
    greet(c)
    assert c.cmd("MAIL FROM:<s@client.test>") == ["250 2.1.0 Ok"]
    assert c.cmd("RCPT TO:<%s>" % rcpt) == ["250 2.1.5 Ok"]


def still_serving(c):
    assert c.cmd("NOOP") == ["250 2.0.0 Ok"]


# --- line limits -----------------------------------------------------------

def test_command_line_over_512(petrel):
    c = Raw(petrel.plain_port)
    greet(c)
    # 510 octets + CRLF = 512 is fine; one more is not.
    ok = "NOOP " + "x" * 505
    assert len(ok) == 510
    assert c.cmd(ok) == ["250 2.0.0 Ok"]
    assert c.cmd("NOOP " + "x" * 506) == ["500 5.5.2 Line too long (limit 512 octets)"]
    still_serving(c)
    # A 100 KB line arriving in pieces is dropped as it comes, answered once.
    c.send(b"MAIL FROM:<" + b"a" * 50000)
    time.sleep(0.1)
    c.send(b"b" * 50000 + b">\r\n")
    assert c.reply() == ["500 5.5.2 Line too long (limit 512 octets)"]
    still_serving(c)


def test_text_line_over_1000_refused_after_dot(petrel):
    c = Raw(petrel.plain_port)
    start_transaction(c)
    assert c.cmd("DATA")[0].startswith("354")
    c.send(b"Subject: long\r\n\r\n" + b"y" * 999 + b"\r\nend\r\n")
    time.sleep(0.1)
    reply = c.cmd(b".\r\n")
    assert reply[-1].startswith("550 5.6.0") and "1000" in reply[-1], reply
    still_serving(c)
    # The same message with a 998-octet line is fine.
    assert c.cmd("MAIL FROM:<s@client.test>")[0].startswith("250")
    assert c.cmd("RCPT TO:<test@example.test>")[0].startswith("250")
    c.cmd("DATA")
    assert QUEUED.match(c.cmd(b"Subject: ok\r\n\r\n" + b"y" * 998 + b"\r\n.\r\n")[-1])
    msgs = petrel.wait_messages("test@example.test", 1)
    assert len(msgs) == 1 and b"Subject: ok" in msgs[0]


# --- SMTP smuggling --------------------------------------------------------

SMUGGLING = [b"\n.\n", b"\r\n.\n", b"\n.\r\n", b"\r.\r\n"]


@pytest.mark.parametrize("sequence", SMUGGLING, ids=["LF.LF", "CRLF.LF", "LF.CRLF", "CR.CRLF"])
def test_smuggling_never_ends_data(petrel, sequence):
    c = Raw(petrel.plain_port)
    start_transaction(c)
    assert c.cmd("DATA")[0].startswith("354")
    smuggled = (b"MAIL FROM:<evil@attacker.test>\r\nRCPT TO:<alice@example.test>\r\n"
                b"DATA\r\nSubject: smuggled\r\n\r\nowned\r\n")
    c.send(b"Subject: innocent\r\n\r\nhello" + sequence + smuggled)
    # Nothing may answer yet: we are still inside the first message.
    c.sock.settimeout(0.5)
    with pytest.raises(socket.timeout):
        c.line()
    c.sock.settimeout(10 * SLOW)
    reply = c.cmd(b".\r\n")
    assert reply == ["550 5.6.0 Message refused: bare CR or LF in message; "
                     "lines must end with CRLF"]
    still_serving(c)
    c.close()
    time.sleep(0.3)
    assert petrel.messages("alice@example.test") == []
    assert petrel.messages("test@example.test") == []


def test_smuggling_via_bdat_refused(petrel):
    c = Raw(petrel.plain_port)
    start_transaction(c)
    chunk = b"Subject: x\r\n\r\nhello\n.\nMAIL FROM:<e@x.test>\r\n"
    reply = c.cmd(b"BDAT %d LAST\r\n" % len(chunk) + chunk)
    assert reply[-1].startswith("550 5.6.0 Message refused: bare CR or LF")
    still_serving(c)


# --- STARTTLS injection ----------------------------------------------------

def test_starttls_injection_discarded(petrel):
    c = Raw(petrel.smtp_port)
    greet(c)
    # Commands pipelined after STARTTLS in the same packet.
    c.send(b"STARTTLS\r\nRSET\r\nMAIL FROM:<injected@attacker.test>\r\n")
    assert c.reply() == ["220 2.0.0 Ready to start TLS"]
    assert c.buffer == b""  # nothing else was answered in the clear
    tls = client_tls_context().wrap_socket(c.sock)
    c.sock = tls
    # The first thing heard over TLS is the answer to our EHLO — not a
    # reply to the injected RSET or MAIL.
    reply = c.cmd("EHLO client.test")
    assert reply[0] == "250-mx.example.test", reply
    # MAIL was not executed: a fresh MAIL is not "nested".
    assert c.cmd("MAIL FROM:<real@client.test>") == ["250 2.1.0 Ok"]
    assert "event=starttls-injection" in petrel.read_log()


def test_no_mail_before_ehlo_after_starttls(petrel):
    c = Raw(petrel.smtp_port)
    greet(c)
    assert c.cmd("STARTTLS") == ["220 2.0.0 Ready to start TLS"]
    c.sock = client_tls_context().wrap_socket(c.sock)
    # RFC 3207 4.2: the session starts over; the earlier EHLO is forgotten.
    assert c.cmd("MAIL FROM:<s@client.test>") == ["503 5.5.1 Error: send HELO/EHLO first"]
    greet(c)
    assert c.cmd("STARTTLS") == ["503 5.5.1 Error: TLS already active"]


def test_starttls_handshake_garbage(petrel):
    c = Raw(petrel.smtp_port)
    greet(c)
    assert c.cmd("STARTTLS")[0].startswith("220")
    c.send(b"this is not a TLS client hello\r\n" * 10)
    assert c.closed()
    still_serving(Raw(petrel.smtp_port))


# --- pipelining abuse ------------------------------------------------------

def test_data_before_354(petrel):
    c = Raw(petrel.plain_port)
    greet(c)
    c.send(b"MAIL FROM:<s@client.test>\r\nRCPT TO:<test@example.test>\r\n"
           b"DATA\r\nSubject: early\r\n\r\nbody\r\n.\r\n")
    assert c.code() == "250"
    assert c.code() == "250"
    assert c.reply() == ["554 5.5.0 SMTP synchronization error: data sent before 354"]
    assert c.closed()
    time.sleep(0.2)
    assert petrel.messages("test@example.test") == []


def test_ehlo_before_banner(make_petrel):
    server = make_petrel(limits={"greeting_delay_ms": 400})
    c = Raw(server.plain_port, greeting=False)
    c.send(b"EHLO client.test\r\n")
    assert c.reply() == ["554 5.5.0 SMTP synchronization error: input before greeting"]
    assert c.closed()
    # A patient client is served normally.
    c = Raw(server.plain_port)
    assert c.banner == ["220 mx.example.test ESMTP petrel"]
    greet(c)


# --- BDAT (RFC 3030) -------------------------------------------------------

def test_bdat_chunk_with_dot_line_stored_verbatim(petrel):
    c = Raw(petrel.plain_port)
    start_transaction(c)
    chunk = b"Subject: dots\r\n\r\nbefore\r\n.\r\nMAIL FROM:<x@y.test>\r\n..two\r\n"
    assert QUEUED.match(c.cmd(b"BDAT %d LAST\r\n" % len(chunk) + chunk)[-1])
    msg = petrel.wait_messages("test@example.test", 1)[0]
    assert msg.endswith(chunk)


def test_bdat_before_mail_consumes_exactly(petrel):
    c = Raw(petrel.plain_port)
    greet(c)
    c.send(b"BDAT 10\r\n0123456789NOOP\r\n")
    assert c.reply() == ["503 5.5.1 Error: need MAIL command"]
    assert c.reply() == ["250 2.0.0 Ok"]  # NOOP: exactly 10 octets were eaten


@pytest.mark.parametrize("arg", ["-1", "12345678901234567890", "", "ten", "5 FIRST"])
def test_bdat_bad_size(petrel, arg):
    c = Raw(petrel.plain_port)
    start_transaction(c)
    reply = c.cmd("BDAT " + arg)
    assert reply[-1].startswith("501 5.5.4"), reply
    still_serving(c)


def test_bdat_oversized_chunk(make_petrel):
    server = make_petrel(limits={"message_size": 4096})
    c = Raw(server.plain_port)
    start_transaction(c)
    c.send(b"BDAT 5000 LAST\r\n" + b"z" * 5000)
    assert c.reply() == ["552 5.3.4 Message size exceeds fixed limit of 4096 octets"]
    still_serving(c)
    # Across chunks too, and the transaction is reset afterwards.
    start_transaction(c)
    assert c.cmd(b"BDAT 3000\r\n" + b"a" * 3000)[0].startswith("250")
    assert c.cmd(b"BDAT 3000 LAST\r\n" + b"b" * 3000)[0].startswith("552 5.3.4")
    assert c.cmd(b"BDAT 1 LAST\r\nx") == ["503 5.5.1 Error: need MAIL command"]
    assert server.messages("test@example.test") == []


def test_data_after_bdat(petrel):
    c = Raw(petrel.plain_port)
    start_transaction(c)
    assert c.cmd(b"BDAT 4\r\nabcd")[0].startswith("250")
    assert c.cmd("DATA") == ["503 5.5.1 Error: DATA after BDAT"]
    assert c.cmd("RSET") == ["250 2.0.0 Ok"]


def test_bdat_last_then_quit_same_segment(petrel):
    c = Raw(petrel.plain_port)
    start_transaction(c)
    c.send(b"BDAT 3 LAST\r\nabcQUIT\r\n")
    assert QUEUED.match(c.reply()[0])
    assert c.reply() == ["221 2.0.0 Bye"]
    assert petrel.wait_messages("test@example.test", 1)[0].endswith(b"abc")


# --- parameter, spool and path injection -----------------------------------

def test_crlf_in_esmtp_parameters(petrel):
    c = Raw(petrel.plain_port)
    greet(c)
    reply = c.cmd("MAIL FROM:<s@client.test> AUTH=x+0D+0Afoo")
    assert reply[0].startswith("501 5.5.4 Invalid AUTH= parameter"), reply
    assert c.cmd("MAIL FROM:<s@client.test>") == ["250 2.1.0 Ok"]
    reply = c.cmd("RCPT TO:<test@example.test> ORCPT=rfc822;a+0A+0Db@c")
    assert reply == ["501 5.5.4 Invalid ORCPT= parameter"]
    # Raw CR inside a command line is not a line end and not accepted.
    assert c.cmd(b"RCPT TO:<test@example.test>\rX-Injected: yes\r\n")[0].startswith("500 5.5.2")


@pytest.mark.parametrize("params", ["BODY=7BIT BODY=8BITMIME", "SIZE=10 size=20",
                                    "RET=HDRS RET=FULL", "SMTPUTF8 SMTPUTF8"])
def test_repeated_mail_parameter(petrel, params):
    # A second BODY= once replaced the first without freeing it: MAIL/RSET
    # loops grew the worker. A keyword given twice is refused instead.
    c = Raw(petrel.plain_port)
    greet(c)
    for _ in range(3):
        reply = c.cmd("MAIL FROM:<s@client.test> " + params)
        assert reply == ["501 5.5.4 Bad MAIL parameters: duplicate parameter"], reply
        assert c.cmd("RSET") == ["250 2.0.0 Ok"]
    assert c.cmd("MAIL FROM:<s@client.test> BODY=8BITMIME") == ["250 2.1.0 Ok"]
    reply = c.cmd("RCPT TO:<test@example.test> NOTIFY=NEVER NOTIFY=NEVER")
    assert reply[0].startswith("501 5.5.4"), reply
    assert c.cmd("RCPT TO:<test@example.test>") == ["250 2.1.5 Ok"]


def test_helo_with_forged_header(petrel):
    c = Raw(petrel.plain_port)
    reply = c.cmd(b"EHLO client.test\r\nX-Forged: yes\r\n")
    assert reply[-1].startswith("250 ")
    assert c.reply() == ["500 5.5.2 Error: command not recognized"]
    assert c.cmd("EHLO client.test X-Forged: yes")[0] == "501 5.5.2 Syntax: EHLO hostname"
    assert c.cmd("EHLO <script>")[0] == "501 5.5.2 Syntax: EHLO hostname"
    assert c.cmd("EHLO")[0] == "501 5.5.2 Syntax: EHLO hostname"
    greet(c, "good.client.test")
    c.cmd("MAIL FROM:<s@client.test>")
    c.cmd("RCPT TO:<test@example.test>")
    c.cmd("DATA")
    assert QUEUED.match(c.cmd(b"Subject: x\r\n\r\nx\r\n.\r\n")[-1])
    msg = petrel.wait_messages("test@example.test", 1)[0]
    assert b"X-Forged" not in msg
    assert b"Received: from good.client.test ([127.0.0.1])" in msg


@pytest.mark.parametrize("command,reply_start", [
    ("MAIL FROM:<;sleep 66;>", "501 5.1.7"),
    ("MAIL FROM:<`touch /tmp/petrel-pwned`@x.test>", "501 5.1.7"),
])
def test_shell_in_sender(petrel, command, reply_start):
    c = Raw(petrel.plain_port)
    greet(c)
    assert c.cmd(command)[0].startswith(reply_start)
    assert not os.path.exists("/tmp/petrel-pwned")


@pytest.mark.parametrize("rcpt,reply_start", [
    ("<|/bin/sh@example.test>", "550 5.1.1"),
    ('<"../x"@example.test>', "550 5.1.1"),
    ('<"../../../../tmp/pwn"@example.test>', "550 5.1.1"),
    ("<test/../../x@example.test>", "501 5.1.3"),
    ("<test/x@example.test>", "550 5.1.1"),
    ("<.test@example.test>", "501 5.1.3"),
])
def test_paths_and_shells_in_recipient(petrel, rcpt, reply_start):
    c = Raw(petrel.plain_port)
    greet(c)
    c.cmd("MAIL FROM:<s@client.test>")
    assert c.cmd("RCPT TO:" + rcpt)[0].startswith(reply_start)
    # Nothing was created outside the Maildirs of configured users.
    assert not os.path.exists(os.path.join(petrel.home, "mail", "x"))
    assert not os.path.exists(os.path.join(petrel.home, "x"))


@pytest.mark.parametrize("rcpt,reply_start", [
    ("<v%ext.test@example.test>", "550 5.1.1"),
    ("<v@ext.test@example.test>", "501 5.1.3"),
    ('<"v@ext.test"@example.test>', "550 5.1.1"),
    ("<@example.test:v@ext.test>", "550 5.7.1"),
    ("<ext.test!v@example.test>", "550 5.1.1"),
    ("<v@[192.0.2.1]>", "550 5.7.1"),
    ("<v@ext.test>", "550 5.7.1"),
    ("<test@example.test.ext.test>", "550 5.7.1"),
])
def test_relay_forms_not_relayed(petrel, rcpt, reply_start):
    c = Raw(petrel.plain_port)
    greet(c)
    c.cmd("MAIL FROM:<s@client.test>")
    reply = c.cmd("RCPT TO:" + rcpt)
    assert reply[0].startswith(reply_start), reply
    assert c.cmd("DATA")[0] == "503 5.5.1 Error: need RCPT command"


def test_relay_networks_may_relay(make_petrel):
    server = make_petrel(relay_networks=["127.0.0.0/8"])
    c = Raw(server.plain_port)
    greet(c)
    c.cmd("MAIL FROM:<s@client.test>")
    assert c.cmd("RCPT TO:<v@ext.test>") == ["250 2.1.5 Ok"]
    c.cmd("DATA")
    m = QUEUED.match(c.cmd(b"Subject: out\r\n\r\nx\r\n.\r\n")[-1])
    assert m
    # No remote route exists yet: the message waits intact in the queue.
    time.sleep(0.5 * SLOW)
    assert m.group(1) in server.spool_files()
    # Local users still need to exist.
    c.cmd("MAIL FROM:<s@client.test>")
    assert c.cmd("RCPT TO:<nobody@example.test>")[0].startswith("550 5.1.1")


# --- everything else -------------------------------------------------------

def test_nul_bytes_in_commands(petrel):
    c = Raw(petrel.plain_port)
    assert c.cmd(b"EHLO client\x00.test\r\n") == ["500 5.5.2 Error: NUL byte in command"]
    greet(c)
    assert c.cmd(b"MAIL FROM:<s@client.test>\x00 SIZE=1\r\n")[0].startswith("500 5.5.2")
    still_serving(c)


def test_sequence_errors(petrel):
    c = Raw(petrel.plain_port)
    assert c.cmd("MAIL FROM:<s@client.test>") == ["503 5.5.1 Error: send HELO/EHLO first"]
    greet(c)
    assert c.cmd("DATA") == ["503 5.5.1 Error: need MAIL command"]
    assert c.cmd("RCPT TO:<test@example.test>") == ["503 5.5.1 Error: need MAIL command"]
    c.cmd("MAIL FROM:<s@client.test>")
    assert c.cmd("DATA") == ["503 5.5.1 Error: need RCPT command"]
    assert c.cmd("MAIL FROM:<s@client.test>") == ["503 5.5.1 Error: nested MAIL command"]
    assert c.cmd("STARTTLS")[0].startswith("503")


def test_size_parameter_over_limit(petrel):
    c = Raw(petrel.plain_port)
    greet(c)
    assert c.cmd("MAIL FROM:<s@client.test> SIZE=52428801") == [
        "552 5.3.4 Message size exceeds fixed limit of 52428800 octets"]
    assert c.cmd("MAIL FROM:<s@client.test> SIZE=99999999999999999999")[0].startswith("501")
    assert c.cmd("MAIL FROM:<s@client.test> SIZE=52428800") == ["250 2.1.0 Ok"]


def test_message_over_size_in_data(make_petrel):
    server = make_petrel(limits={"message_size": 4096})
    c = Raw(server.plain_port)
    start_transaction(c)
    c.cmd("DATA")
    c.send((b"x" * 70 + b"\r\n") * 100)
    assert c.cmd(b".\r\n")[0].startswith("552 5.3.4")
    still_serving(c)


def test_recipient_limit(petrel):
    c = Raw(petrel.plain_port)
    greet(c)
    c.cmd("MAIL FROM:<s@client.test>")
    batch = b"".join(b"RCPT TO:<test+%d@example.test>\r\n" % i for i in range(101))
    c.send(batch)
    replies = [c.reply() for _ in range(101)]
    assert all(r == ["250 2.1.5 Ok"] for r in replies[:100])
    assert replies[100] == ["452 4.5.3 Too many recipients"]


def test_unknown_command_flood(petrel):
    c = Raw(petrel.plain_port)
    c.send(b"".join(b"XYZZY %d\r\n" % i for i in range(50)))
    replies = []
    while True:
        try:
            replies.append(c.reply())
        except EOFError:
            break
    assert replies[:9] == [["500 5.5.2 Error: command not recognized"]] * 9
    assert replies[9] == ["500 5.5.2 Error: command not recognized"]
    assert replies[10] == ["421 4.7.0 Too many errors, closing connection"]
    assert len(replies) == 11


def test_silent_client_times_out(make_petrel):
    server = make_petrel(limits={"idle_timeout": 1, "data_timeout": 2})
    c = Raw(server.plain_port)
    assert c.reply() == ["421 4.4.2 Error: timeout exceeded"]
    assert c.closed()
    c = Raw(server.plain_port)
    start_transaction(c)
    c.cmd("DATA")
    c.send(b"Subject: slow\r\n")
    assert c.reply() == ["421 4.4.2 Error: timeout exceeded"]
    time.sleep(0.2)
    assert server.messages("test@example.test") == []


@pytest.mark.parametrize("helo", ["", "a b", "-", "x\x7f", "[1.2.3.4", "bad!host", "a..b",
                                  "-a.b", "a-.b", "[1.2.3.999]", "[IPv6:zz]", "[]"])
def test_ehlo_garbage(petrel, helo):
    c = Raw(petrel.plain_port)
    reply = c.cmd(b"EHLO " + helo.encode() + b"\r\n")
    assert reply[0][:3] in ("500", "501"), reply
    greet(c)


def test_long_local_part(petrel):
    c = Raw(petrel.plain_port)
    greet(c)
    reply = c.cmd("MAIL FROM:<%s@client.test>" % ("a" * 300))
    assert reply[0].startswith("501 5.1.7"), reply
    reply = c.cmd("MAIL FROM:<%s@client.test>" % ("a" * 65))
    assert reply[0].startswith("501 5.1.7"), reply
    assert c.cmd("MAIL FROM:<%s@client.test>" % ("a" * 64)) == ["250 2.1.0 Ok"]


def test_utf8_address_needs_smtputf8(petrel):
    c = Raw(petrel.plain_port)
    greet(c)
    assert c.cmd("MAIL FROM:<用户@client.test>")[0].startswith("553 5.6.7")
    assert c.cmd("MAIL FROM:<用户@client.test> SMTPUTF8") == ["250 2.1.0 Ok"]
    assert c.cmd(b"RCPT TO:<\xff@example.test>\r\n")[0].startswith("501")


def test_relay_domains_accepted_from_anyone(make_petrel):
    """A relay domain (backup MX, gateway) takes mail from any client;
    other remote domains still need relay_networks."""
    server = make_petrel(extra_yaml="relay_domains: [backup.test]\n")
    c = Raw(server.plain_port)
    greet(c)
    c.cmd("MAIL FROM:<s@client.test>")
    assert c.cmd("RCPT TO:<v@backup.test>") == ["250 2.1.5 Ok"]
    assert c.cmd("RCPT TO:<v@sub.backup.test>")[0].startswith("550 5.7.1")
    assert c.cmd("RCPT TO:<v@other.test>")[0].startswith("550 5.7.1")
    c.cmd("DATA")
    m = QUEUED.match(c.cmd(b"Subject: backup\r\n\r\nx\r\n.\r\n")[-1])
    assert m
    # Remote delivery is not there yet: the message waits, intact.
    time.sleep(0.5 * SLOW)
    assert m.group(1) in server.spool_files()
