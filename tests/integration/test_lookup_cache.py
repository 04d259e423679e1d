"""Remembered lookups (issue 10, performance): workers and the queue keep
the auth process's answers about recipients, and forget them the moment
the user database changes — through petrel's commands (before the command
returns), behind petrel's back (an sqlite3 writer, seen by inotify), or by
a reload. A cached answer must never let a deleted user receive mail nor
send a local domain's mail to the Internet."""

import os
import re
import sqlite3

from conftest import Raw, free_ports, wait_for
from test_auth import plain, starttls
from test_metrics import value
from test_userdb import ok, send


def lookups(server, cache):
    out = server.cli("stats")
    assert out.returncode == 0, out.stderr
    return value(out.stdout, 'petrel_auth_lookups_total{cache="%s"}' % cache)


def test_answers_remembered_until_a_command_changes_them(make_petrel):
    server = make_petrel()
    for n in range(1, 4):
        assert send(server, ["alice@example.test"])[0].startswith("250")
        assert len(server.wait_messages("alice@example.test", n)) == n
    # RCPT in a worker and the local delivery in the queue: asked once by
    # each process (each worker keeps its own answers), then remembered.
    workers = int(re.search(r"event=start .* workers=(\d+)", server.read_log()).group(1))
    misses, hits = lookups(server, "miss"), lookups(server, "hit")
    assert misses + hits == 6 and misses <= min(workers, 3) + 1, (misses, hits)

    # Every change is seen by the next transaction, not a minute later.
    assert send(server, ["carol@example.test"])[0].startswith("550 5.1.1")
    ok(server.cli("user", "add", "carol@example.test", input="pw\n"))
    assert send(server, ["carol@example.test"])[0].startswith("250")
    ok(server.cli("user", "del", "alice@example.test"))
    assert send(server, ["alice@example.test"])[0].startswith("550 5.1.1")
    ok(server.cli("alias", "add", "alice@example.test", "carol@example.test"))
    assert send(server, ["alice@example.test"])[0].startswith("250")
    assert len(server.wait_messages("carol@example.test", 2)) == 2
    ok(server.cli("alias", "del", "alice@example.test"))
    assert send(server, ["alice@example.test"])[0].startswith("550 5.1.1")
    ok(server.cli("domain", "add", "new.test"))
    ok(server.cli("alias", "add", "@new.test", "carol@example.test"))
    assert send(server, ["anyone@new.test"])[0].startswith("250")
    assert len(server.wait_messages("carol@example.test", 3)) == 3


def test_database_written_behind_petrels_back(make_petrel):
    """An administrator's sqlite3 shell: no command tells the daemon, the
    auth process sees the file change."""
    server = make_petrel()
    assert send(server, ["bob@example.test"])[0].startswith("250")
    assert send(server, ["bob@example.test"])[0].startswith("250")  # remembered
    db = sqlite3.connect(os.path.join(server.home, "db", "users.sqlite"))
    with db:
        db.execute("DELETE FROM users WHERE address = 'bob@example.test'")
    assert wait_for(lambda: send(server, ["bob@example.test"])[0].startswith("550 5.1.1"),
                    timeout=3)
    with db:
        db.execute("INSERT INTO aliases (address, domain, target, created) "
                   "VALUES ('bob@example.test', 'example.test', 'alice@example.test', 0)")
    db.close()
    assert wait_for(lambda: send(server, ["bob@example.test"])[0].startswith("250"),
                    timeout=3)
    assert wait_for(lambda: len(server.messages("alice@example.test")) >= 1)


def submit(server, rcpt):
    c = starttls(server.submission_port)
    assert c.cmd("AUTH PLAIN " + plain("alice@example.test", "secret"))[-1].startswith("235")
    assert c.cmd("MAIL FROM:<alice@example.test>")[-1].startswith("250")
    assert c.cmd("RCPT TO:<%s>" % rcpt)[-1].startswith("250")
    assert c.cmd("DATA")[-1].startswith("354")
    c.send(b"Subject: t\r\n\r\nhello\r\n.\r\n")
    assert c.reply()[-1].startswith("250")
    c.cmd("QUIT")


def test_queue_forgets_a_domain_that_became_local(make_petrel):
    """The queue remembered "not ours" for carol@later.test; once the domain
    and the user exist, the next message must go to her Maildir, not to the
    domain's route (here a closed port)."""
    closed = free_ports(1)[0]
    server = make_petrel(extra_yaml='routes: {later.test: "[127.0.0.1]:%d"}\n' % closed)
    submit(server, "carol@later.test")
    assert wait_for(lambda: "carol@later.test" in server.cli("queue", "list").stdout)
    assert "status=deferred" in server.wait_log("status=deferred")
    assert not server.messages("carol@later.test")
    ok(server.cli("domain", "add", "later.test"))
    ok(server.cli("user", "add", "carol@later.test", input="pw\n"))
    submit(server, "carol@later.test")
    assert len(server.wait_messages("carol@later.test", 1)) == 1
    # The first one, retried, is hers now too.
    ok(server.cli("queue", "retry"))
    assert len(server.wait_messages("carol@later.test", 2)) == 2


def test_reload_forgets(make_petrel):
    """Users in the YAML come back on a reload even when deleted from the
    database; a remembered "unknown" must not outlive that."""
    server = make_petrel()
    ok(server.cli("user", "del", "bob@example.test"))
    assert send(server, ["bob@example.test"])[0].startswith("550")
    assert send(server, ["bob@example.test"])[0].startswith("550")  # remembered
    server.process.send_signal(1)  # SIGHUP
    assert wait_for(lambda: send(server, ["bob@example.test"])[0].startswith("250"))


def test_postgres_answers_are_not_remembered(make_petrel, postgres):
    dsn = postgres.new_database()
    server = make_petrel(auth={"backend": "postgres", "dsn": '"%s"' % dsn})
    for _ in range(2):
        assert send(server, ["alice@example.test"])[0].startswith("250")
    assert lookups(server, "hit") == 0
