"""`petrel mailbox list|status|reindex|purge USER` (issue 12): a user's
folders as the index sees them, totals and quota, a rescan after the
files changed behind the server's back, and the removal of messages
marked \\Deleted — run beside the running server, as its account."""

import os

from test_imap import deliver, wait_delivered

USER = "test@example.test"


def test_mailbox_commands(make_petrel):
    server = make_petrel(imap=True)
    assert server.cli("user", "quota", USER, "10M").returncode == 0
    for i in range(3):
        deliver(server, subject="m%d" % i)
    wait_delivered(server, 3)
    m = server.imap()
    m.select("INBOX")
    m.store("1", "+FLAGS", "\\Deleted")
    m.store("2", "+FLAGS", "\\Seen")
    m.create("Projects")
    m.logout()
    r = server.cli("mailbox", "list", USER)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["FOLDER", "MESSAGES", "UNSEEN", "SIZE", "USE"]
    inbox = next(l for l in lines if l.startswith("INBOX"))
    assert inbox.split()[1:3] == ["3", "2"], inbox
    assert any(l.startswith("Sent") and l.rstrip().endswith("\\Sent") for l in lines)
    assert any(l.startswith("Projects ") for l in lines)
    r = server.cli("mailbox", "status", USER)
    assert r.returncode == 0, r.stderr
    assert "3 in INBOX (2 unseen)" in r.stdout and "of 10.0M" in r.stdout, r.stdout
    # A file removed behind petrel's back: reindex finds it gone.
    cur = os.path.join(server.mailbox(USER), "cur")
    victim = sorted(os.listdir(cur))[-1]
    os.unlink(os.path.join(cur, victim))
    r = server.cli("mailbox", "reindex", USER)
    assert r.returncode == 0 and "INBOX" in r.stdout and " 2 messages" in r.stdout, r.stdout
    r = server.cli("mailbox", "purge", USER)
    assert r.returncode == 0, r.stderr
    assert "1 messages removed" in r.stdout, r.stdout
    assert len(os.listdir(cur)) == 1
    # Still the server's: the files the command touched are its account's.
    index = os.path.join(server.mailbox(USER), "petrel-index.db")
    assert os.stat(index).st_uid == os.stat(server.mailbox(USER)).st_uid
    m = server.imap()
    assert m.select("INBOX") == ("OK", [b"1"])
    m.logout()


def test_mailbox_command_errors(make_petrel):
    server = make_petrel()
    r = server.cli("mailbox", "list", "nobody@example.test")
    assert r.returncode == 1 and "nobody@example.test: no such user" in r.stderr
    r = server.cli("mailbox", "frobnicate", USER)
    assert r.returncode == 2 and "unknown subcommand 'frobnicate'" in r.stderr
    r = server.cli("mailbox", "list")
    assert r.returncode == 2 and "usage: petrel mailbox list USER" in r.stderr
