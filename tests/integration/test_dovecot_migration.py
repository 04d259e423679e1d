"""Migration from Dovecot (issue 12): a Maildir that a real Dovecot 2.3
wrote (dovecot-uidlist, dovecot-keywords, :2, flags with keyword letters)
opens in petrel with the same UIDVALIDITY, UIDs, UIDNEXT, flags and
keywords, so a client that synchronised with Dovecot finds nothing to
download again."""

import imaplib
import os
import pwd
import re
import shutil
import subprocess

import pytest

from conftest import SLOW, free_ports, make_home, wait_for

USER = "test@example.test"
PASSWORD = "secret"

pytestmark = [
    pytest.mark.skipif(shutil.which("dovecot") is None,
                       reason="dovecot-imapd is installed by scripts/deps test"),
    # Dovecot's master and the files' owner (nobody) need root
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
]


class Dovecot:
    """A private Dovecot: its own base, state and log directories, IMAP
    on a free loopback port, one static user whose home is under base."""

    def __init__(self, base):
        self.base = base
        self.port = free_ports(1)[0]
        self.user = pwd.getpwnam("nobody")
        for d in ("run", "state", "home"):
            os.makedirs(os.path.join(base, d))
        os.chmod(base, 0o755)
        home = os.path.join(base, "home")
        os.chown(home, self.user.pw_uid, self.user.pw_gid)
        self.conf = os.path.join(base, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write("""base_dir = {b}/run
state_dir = {b}/state
log_path = {b}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
mail_location = maildir:~/Maildir
first_valid_uid = 1
passdb {{
  driver = static
  args = password={pw}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={b}/home
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
""".format(b=base, pw=PASSWORD, uid=self.user.pw_uid, gid=self.user.pw_gid,
           port=self.port))
        self.maildir = os.path.join(home, "Maildir")

    def start(self):
        subprocess.run(["dovecot", "-c", self.conf], check=True, timeout=30)

        def listening():
            try:
                imaplib.IMAP4("127.0.0.1", self.port, timeout=2).logout()
                return True
            except OSError:
                return False
        assert wait_for(listening), self.log()
        return self

    def stop(self):
        pid_file = os.path.join(self.base, "run", "master.pid")
        subprocess.run(["doveadm", "-c", self.conf, "stop"], capture_output=True, timeout=30)
        assert wait_for(lambda: not os.path.exists(pid_file)), self.log()

    def log(self):
        path = os.path.join(self.base, "dovecot.log")
        return open(path).read() if os.path.exists(path) else "(no log)"


def folder_state(client, folder):
    """(UIDVALIDITY, UIDNEXT, {uid: set of flags}) of folder, \\Recent left
    out (it belongs to a session, not to the message)."""
    typ, data = client.status(folder, "(UIDVALIDITY UIDNEXT)")
    assert typ == "OK", data
    status = data[0].decode()
    validity = int(re.search(r"UIDVALIDITY (\d+)", status).group(1))
    uidnext = int(re.search(r"UIDNEXT (\d+)", status).group(1))
    typ, _ = client.select(folder, readonly=True)
    assert typ == "OK"
    typ, data = client.uid("FETCH", "1:*", "(FLAGS)")
    assert typ == "OK", data
    messages = {}
    for line in data:
        if not isinstance(line, bytes):
            continue
        # the items in either order (RFC 9051 7.5.2 fixes none)
        uid = re.search(rb"UID (\d+)", line)
        flags = re.search(rb"FLAGS \(([^)]*)\)", line)
        assert uid and flags, line
        messages[int(uid.group(1))] = set(flags.group(1).decode().split()) - {"\\Recent"}
    client.close()
    return validity, uidnext, messages


def message(n):
    return ("From: a@example.test\r\nTo: test@example.test\r\n"
            "Subject: migrated %d\r\n\r\nbody %d\r\n" % (n, n)).encode()


def fill_with_dovecot(dovecot):
    """What a user's years with Dovecot leave: folders, flags, keywords,
    expunged messages (gaps in the UIDs)."""
    c = imaplib.IMAP4("127.0.0.1", dovecot.port, timeout=10 * SLOW)
    c.login(USER, PASSWORD)
    assert c.create("Work")[0] == "OK"
    flags = ["(\\Seen)", "(\\Flagged $Label1)", "(Custom1)", "()", "(\\Seen \\Answered Custom2)",
             "($Label1 Custom1)"]
    for n, f in enumerate(flags):
        assert c.append("INBOX", f, None, message(n))[0] == "OK"
    for n in range(3):
        assert c.append("Work", "(Project \\Seen)" if n else "()", None, message(10 + n))[0] == "OK"
    c.select("INBOX")
    c.uid("STORE", "2,4", "+FLAGS", "(\\Deleted)")
    c.expunge()
    # a flag changed after the fact, and a keyword taken away
    c.uid("STORE", "6", "-FLAGS", "($Label1)")
    c.uid("STORE", "1", "+FLAGS", "(Custom2)")
    c.close()
    state = {box: folder_state(c, box) for box in ("INBOX", "Work")}
    c.logout()
    return state


@pytest.fixture
def dovecot():
    base = make_home()
    server = Dovecot(os.path.join(base, "dovecot")).start()
    yield server
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


def test_dovecot_maildir_keeps_uids_and_keywords(make_petrel, dovecot):
    before = fill_with_dovecot(dovecot)
    dovecot.stop()
    assert sorted(before["INBOX"][2]) == [1, 3, 5, 6]
    assert os.path.exists(os.path.join(dovecot.maildir, "dovecot-uidlist"))
    assert os.path.exists(os.path.join(dovecot.maildir, "dovecot-keywords"))
    # Dovecot kept the keywords as letters in the file names: what petrel
    # must read back through dovecot-keywords.
    names = os.listdir(os.path.join(dovecot.maildir, "cur"))
    assert any(re.search(r":2,[A-Z]*[a-z]", n) for n in names), names

    server = make_petrel(imap=True)
    target = server.mailbox(USER)
    if os.path.exists(target):
        shutil.rmtree(target)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copytree(dovecot.maildir, target, symlinks=True)
    nobody = pwd.getpwnam("nobody")
    for root, dirs, files in os.walk(os.path.dirname(target)):
        for name in [root] + [os.path.join(root, n) for n in dirs + files]:
            os.chown(name, nobody.pw_uid, nobody.pw_gid)

    client = server.imap()
    after = {box: folder_state(client, box) for box in ("INBOX", "Work")}
    assert after == before
    # New mail continues the UIDs where Dovecot stopped.
    assert client.append("INBOX", "(\\Seen)", None, message(99))[0] == "OK"
    validity, uidnext, messages = folder_state(client, "INBOX")
    assert validity == before["INBOX"][0]
    assert max(messages) == before["INBOX"][1] and uidnext == before["INBOX"][1] + 1
    client.logout()

    # A second login (the index now petrel's own) sees the same.
    client = server.imap()
    assert folder_state(client, "Work") == before["Work"]
    client.logout()
    server.check_log_clean()
