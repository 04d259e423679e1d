"""LMTP (RFC 2033) on a unix socket: LHLO, one reply per recipient after
the data, local recipients only, quotas at RCPT — and Postfix delivering
into petrel through it (virtual_transport = lmtp:unix:...)."""

import os
import shutil
import subprocess
import time

import pytest

from conftest import SLOW, LineClient, free_ports, wait_for
from test_imap import wait_delivered

USER = "test@example.test"


class RawLmtp(LineClient):
    def __init__(self, path):
        super().__init__(unix_path=path)
        self.banner = self.reply()

    def line(self):
        return self.read_line().decode()

    def reply(self):
        lines = [self.line()]
        while lines[-1][3:4] == "-":
            lines.append(self.line())
        return lines

    def cmd(self, text):
        self.sock.sendall(text.encode() + b"\r\n")
        return self.reply()


@pytest.fixture
def server(make_petrel):
    return make_petrel(lmtp=True, imap=True)


def test_lmtp_session(server):
    assert oct(os.stat(server.lmtp_path).st_mode & 0o777) == "0o666"
    c = RawLmtp(server.lmtp_path)
    assert c.banner == ["220 mx.example.test LMTP petrel"]
    # RFC 2033 4.1: HELO and EHLO are not LMTP
    assert c.cmd("EHLO client")[0].startswith("500 5.5.1")
    assert c.cmd("MAIL FROM:<a@client.test>")[0] == "503 5.5.1 Error: send LHLO first"
    lhlo = c.cmd("LHLO client.test")
    assert lhlo[0] == "250-mx.example.test" and "250-PIPELINING" in lhlo
    assert c.cmd("MAIL FROM:<a@client.test>")[0].startswith("250")
    assert c.cmd("RCPT TO:<%s>" % USER)[0].startswith("250")
    assert c.cmd("RCPT TO:<alice@example.test>")[0].startswith("250")
    assert c.cmd("RCPT TO:<nobody@example.test>")[0].startswith("550 5.1.1")
    assert c.cmd("RCPT TO:<someone@elsewhere.test>") == \
        ["550 5.1.1 <someone@elsewhere.test>: Not a local recipient"]
    assert c.cmd("DATA")[0].startswith("354")
    c.sock.sendall(b"Subject: via lmtp\r\n\r\nhello\r\n.\r\n")
    # one reply for each accepted recipient, in order
    first, second = c.reply(), c.reply()
    assert first[0].startswith("250 2.0.0 Ok: queued as ")
    assert second == first
    assert c.cmd("QUIT")[0].startswith("221")
    wait_delivered(server, 1)
    wait_delivered(server, 1, user="alice@example.test")
    m = server.imap("alice@example.test")
    assert m.select("INBOX") == ("OK", [b"1"])
    typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (Subject)])")
    assert data[0][1] == b"Subject: via lmtp\r\n\r\n"
    m.logout()


def postfix_available():
    return shutil.which("postfix") is not None and os.geteuid() == 0


@pytest.mark.timeout(120)
def test_postfix_delivers_over_lmtp(server):
    """A private Postfix takes mail over SMTP and hands it to petrel's
    LMTP socket, as a site with Postfix in front would."""
    if not postfix_available():
        pytest.fail("postfix is not installed or not run as root (scripts/deps test)")
    # Postfix's processes run as postfix: everything on the way must be
    # reachable (pytest's tmp_path is not).
    base = os.path.join(server.home, "postfix-front")
    conf, queue, data = base + "/conf", base + "/queue", base + "/data"
    for d in (conf, queue, data):
        os.makedirs(d)
    subprocess.run(["chown", "postfix", data], check=True)
    port = free_ports(1)[0]
    log = base + "/maillog"
    with open(conf + "/main.cf", "w") as f:
        f.write("""compatibility_level = 3.6
queue_directory = {q}
data_directory = {d}
mail_owner = postfix
setgid_group = postdrop
myhostname = front.example.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
virtual_mailbox_domains = example.test
virtual_transport = lmtp:unix:{sock}
alias_maps =
alias_database =
maillog_file = {log}
maillog_file_prefixes = {base}
""".format(q=queue, d=data, sock=server.lmtp_path, log=log, base=base))
    with open("/etc/postfix/master.cf") as f:
        # smtpd on our port; lmtp not chrooted (Debian chroots it into
        # the queue directory, where the socket's path means nothing)
        master = [("127.0.0.1:%d inet n - n - - smtpd" % port)
                  if line.startswith("smtp      inet") else
                  "lmtp unix - - n - - lmtp" if line.startswith("lmtp ") else line
                  for line in f.read().splitlines()]
    with open(conf + "/master.cf", "w") as f:
        f.write("\n".join(master) + "\n")
    subprocess.run(["postfix", "-c", conf, "start"], check=True, capture_output=True,
                   timeout=60)
    try:
        import smtplib
        deadline = time.time() + 20 * SLOW
        while True:
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=5) as s:
                    s.sendmail("someone@client.test", [USER, "bob@example.test"],
                               "Subject: through postfix\r\n\r\nbody\r\n")
                break
            except (ConnectionRefusedError, smtplib.SMTPServerDisconnected):
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        wait_delivered(server, 1)
        wait_delivered(server, 1, user="bob@example.test")
        assert wait_for(lambda: os.path.exists(log) and
                        "status=sent" in open(log).read() and
                        "relay=" in open(log).read(), timeout=20), \
            open(log).read() if os.path.exists(log) else "no postfix log"
        text = open(log).read()
        assert "status=sent (250 2.0.0 Ok: queued as" in text, text
    finally:
        subprocess.run(["postfix", "-c", conf, "stop"], capture_output=True, timeout=60)
