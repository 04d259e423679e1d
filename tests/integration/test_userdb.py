"""The user database (issue 4, part 1), on SQLite and on a real
PostgreSQL server with the same cases: the petrel user/alias/domain
commands, importing a Dovecot passwd-file, recipients and local delivery
through aliases, catch-alls and +tags, YAML users seeded at start, and a
database that stops answering (451, nothing lost)."""

import os
import subprocess
import time

import pytest

from conftest import PETREL, SLOW, Petrel, Raw, make_home, wait_for


@pytest.fixture
def server(backend):
    p = Petrel(make_home(), auth=backend).start()
    yield p
    assert p.stop() == 0, p.read_log()[-3000:]
    p.check_log_clean()


def ok(result):
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_user_commands(server):
    assert "added carol@example.test" in ok(server.cli("user", "add", "Carol@Example.Test",
                                                       "--quota", "10M",
                                                       input="carol pw\n"))
    dup = server.cli("user", "add", "carol@example.test", input="x\n")
    assert dup.returncode == 1 and "already exists" in dup.stderr
    for bad in ["carol", "a/b@example.test", ".x@example.test", "x@[127.0.0.1]"]:
        r = server.cli("user", "add", bad, input="pw\n")
        assert r.returncode == 1, bad
    empty = server.cli("user", "add", "empty@example.test", input="\n")
    assert empty.returncode == 1 and "empty" in empty.stderr
    nothing = server.cli("user", "add", "nothing@example.test", input="")
    assert nothing.returncode == 1
    listing = ok(server.cli("user", "list"))
    assert "carol@example.test" in listing and "10485760" in listing
    assert "ARGON2ID" in listing and "carol pw" not in listing
    # The YAML users are in the database too.
    assert "alice@example.test" in listing and "test@example.test" in listing
    ok(server.cli("user", "passwd", "carol@example.test", input="new pw\n"))
    missing = server.cli("user", "passwd", "ghost@example.test", input="pw\n")
    assert missing.returncode == 1 and "no such user" in missing.stderr
    ok(server.cli("user", "disable", "carol@example.test"))
    assert "disabled" in ok(server.cli("user", "list", "example.test"))
    ok(server.cli("user", "enable", "carol@example.test"))
    ok(server.cli("user", "quota", "carol@example.test", "0"))
    ok(server.cli("user", "grant", "carol@example.test", "*"))
    ok(server.cli("user", "revoke", "carol@example.test", "*"))
    assert server.cli("user", "revoke", "carol@example.test", "*").returncode == 1
    ok(server.cli("user", "del", "carol@example.test"))
    assert "carol@" not in ok(server.cli("user", "list"))
    assert server.cli("user", "frobnicate").returncode == 2
    yaml_del = server.cli("user", "del", "bob@example.test")
    assert yaml_del.returncode == 0 and "comes back" in yaml_del.stderr


def test_user_add_refuses_a_domain_that_does_not_exist(server):
    """A typo in the domain does not quietly make a new local domain."""
    typo = server.cli("user", "add", "dave@exmaple.test", input="pw\n")
    assert typo.returncode == 1
    assert typo.stderr == ("petrel: exmaple.test is not a local domain: add it first "
                           "(petrel domain add exmaple.test), or add the user with "
                           "--create-domain\n")
    assert "exmaple.test" not in ok(server.cli("domain", "list"))
    assert "dave@" not in ok(server.cli("user", "list"))
    # Asked for, it is made.
    out = ok(server.cli("user", "add", "dave@new.test", "--create-domain", input="pw\n"))
    assert "added dave@new.test" in out
    assert "new.test" in ok(server.cli("domain", "list"))
    # A domain added first, or one of the YAML's, needs nothing more.
    ok(server.cli("domain", "add", "third.test"))
    ok(server.cli("user", "add", "eve@third.test", input="pw\n"))
    ok(server.cli("user", "add", "fay@example.test", input="pw\n"))
    wrong = server.cli("user", "passwd", "fay@example.test", "--create-domain")
    assert wrong.returncode == 2 and "does not take --create-domain" in wrong.stderr


def test_alias_and_domain_commands(server):
    ok(server.cli("domain", "add", "Other.Test"))
    assert "other.test" in ok(server.cli("domain", "list"))
    ok(server.cli("user", "add", "dan@other.test", input="pw\n"))
    # Every target in a local domain must exist; nothing is added otherwise.
    ghost = server.cli("alias", "add", "sales@other.test", "dan@other.test",
                       "bob@other.test")
    assert ghost.returncode == 1
    assert ghost.stderr == ("petrel: bob@other.test: bob@other.test does not exist (no "
                            "user, alias or catch-all); add it first, or add the alias "
                            "with --force\n")
    assert "sales@" not in ok(server.cli("alias", "list"))
    # An alias target that is itself a broken alias is named.
    ok(server.cli("alias", "add", "--force", "broken@other.test", "nobody@other.test"))
    chain = server.cli("alias", "add", "sales@other.test", "broken@other.test")
    assert chain.returncode == 1
    assert "its alias target nobody@other.test does not exist" in chain.stderr
    ok(server.cli("alias", "del", "broken@other.test"))
    bad = server.cli("domain", "add", "x.test", "--force")
    assert bad.returncode == 2 and "only 'alias add' takes --force" in bad.stderr
    ok(server.cli("alias", "add", "team@other.test", "dan@other.test",
                  "alice@example.test"))
    ok(server.cli("alias", "add", "@other.test", "dan@other.test"))
    listing = ok(server.cli("alias", "list", "other.test"))
    assert "team@other.test" in listing and "@other.test" in listing
    refused = server.cli("alias", "add", "x@nowhere.test", "dan@other.test")
    assert refused.returncode == 1 and "not a local domain" in refused.stderr
    busy = server.cli("domain", "del", "other.test")
    assert busy.returncode == 1 and "delete them first" in busy.stderr
    ok(server.cli("alias", "del", "team@other.test", "alice@example.test"))
    ok(server.cli("alias", "del", "team@other.test"))
    ok(server.cli("alias", "del", "@other.test"))
    assert server.cli("alias", "del", "@other.test").returncode == 1
    ok(server.cli("user", "del", "dan@other.test"))
    ok(server.cli("domain", "del", "other.test"))
    assert "other.test" not in ok(server.cli("domain", "list"))


def passwd_file_hashes():
    sha512 = subprocess.run(["openssl", "passwd", "-6", "imported-sha"],
                            capture_output=True, text=True, check=True).stdout.strip()
    blf = subprocess.run(
        ["php", "-r", 'echo password_hash("imported-blf", PASSWORD_BCRYPT, '
                      '["cost" => 5]);'],
        capture_output=True, text=True, check=True).stdout.strip().replace("$2y$", "$2y$")
    argon = subprocess.run(
        ["php", "-r", 'echo password_hash("imported-argon", PASSWORD_ARGON2ID, '
                      '["memory_cost" => 1024, "time_cost" => 2, "threads" => 1]);'],
        capture_output=True, text=True, check=True).stdout.strip()
    return sha512, blf, argon


def test_import_dovecot_passwd_file(server):
    sha512, blf, argon = passwd_file_hashes()
    path = server.home + "/users.passwd"
    with open(path, "w") as f:
        f.write("# a Dovecot passwd-file\n\n")
        f.write("sha:{SHA512-CRYPT}%s:5000:5000::/home/sha::userdb_quota_rule=*:storage=2G\n"
                % sha512)
        f.write("blf@example.test:{BLF-CRYPT}%s::::::\n" % blf)
        f.write("argon:{ARGON2ID}%s\n" % argon)
        f.write("plain:{PLAIN}imported-plain\n")
        f.write("md5:{MD5-CRYPT}$1$abc$0123456789abcdef012345\n")
        f.write("alice:{PLAIN}would-replace\n")
    r = server.cli("user", "import", path, "--domain", "example.test")
    assert r.returncode == 1, r.stdout + r.stderr  # one line failed
    assert "imported 4 users, 1 existed already, 1 failed" in r.stdout
    assert "line 7" in r.stderr and "unsupported password scheme" in r.stderr
    assert "line 8: alice@example.test exists already" in r.stderr
    listing = ok(server.cli("user", "list"))
    rows = {line.split()[0]: line.split() for line in listing.splitlines()[1:]}
    assert rows["sha@example.test"][3] == "SHA512-CRYPT"
    assert rows["sha@example.test"][1] == str(2 * 1024 ** 3)
    assert rows["blf@example.test"][3] == "BLF-CRYPT"
    assert rows["argon@example.test"][3] == "ARGON2ID"
    assert rows["plain@example.test"][3] == "ARGON2ID"  # hashed on import
    no_domain = server.cli("user", "import", path)
    assert "no domain in the user name" in no_domain.stderr


def send(server, rcpts, body=b"Subject: t\r\n\r\nhello\r\n", sender="x@remote.example"):
    c = Raw(server.plain_port)
    assert c.cmd("EHLO client.test")[-1].startswith("250")
    assert c.cmd("MAIL FROM:<%s>" % sender)[-1].startswith("250")
    replies = [c.cmd("RCPT TO:<%s>" % r)[-1] for r in rcpts]
    if any(r.startswith("250") for r in replies):
        assert c.cmd("DATA")[-1].startswith("354")
        c.send(body + b".\r\n")
        assert c.reply()[-1].startswith("250")
    c.cmd("QUIT")
    return replies


def test_recipients_through_aliases(server):
    ok(server.cli("user", "add", "erin@example.test", input="pw\n"))  # while running
    ok(server.cli("alias", "add", "sales@example.test", "erin@example.test",
                  "alice@example.test"))
    ok(server.cli("alias", "add", "forward@example.test", "someone@remote.example"))
    replies = send(server, ["erin@example.test", "sales@example.test",
                            "erin+news@example.test", "nobody@example.test",
                            "someone@remote.example", "forward@example.test"])
    assert replies[0].startswith("250") and replies[1].startswith("250")
    assert replies[2].startswith("250")
    assert replies[3].startswith("550 5.1.1")
    assert replies[4].startswith("550 5.7.1")  # not an open relay
    assert replies[5].startswith("250")  # the alias is ours to forward
    erin = server.wait_messages("erin@example.test", 2)
    assert len(erin) == 2  # once as erin (and sales), once as erin+news
    assert any(b"Delivered-To: erin+news@example.test" in m for m in erin)
    alice = server.wait_messages("alice@example.test", 1)
    assert len(alice) == 1 and b"Delivered-To: alice@example.test" in alice[0]
    log = server.wait_log("event=alias-expanded")
    assert 'rcpt=sales@example.test recipients=2' in log
    # The forwarded copy waits in the queue for someone@remote.example.
    queue = wait_for(lambda: "someone@remote.example" in server.cli("queue", "list").stdout)
    assert queue
    # A catch-all takes what nobody else does; a user still wins over it.
    ok(server.cli("alias", "add", "@example.test", "alice@example.test"))
    replies = send(server, ["nobody@example.test", "erin@example.test"])
    assert all(r.startswith("250") for r in replies)
    assert len(server.wait_messages("alice@example.test", 2)) == 2
    assert len(server.wait_messages("erin@example.test", 3)) == 3


def test_alias_with_a_missing_target_is_refused_at_rcpt(server):
    """Forced, an alias naming a local address that does not exist is
    refused whole at RCPT: accepting it would bounce that copy to a
    possibly forged sender (backscatter)."""
    forced = server.cli("alias", "add", "sales@example.test", "alice@example.test",
                        "ghost@example.test", "--force")
    assert forced.returncode == 0, forced.stderr
    assert ("note: ghost@example.test does not exist; mail to sales@example.test is "
            "refused until it does") in forced.stderr
    replies = send(server, ["sales@example.test", "alice@example.test"])
    assert replies[0].startswith("550 5.1.1 <sales@example.test>")
    assert replies[1].startswith("250")
    assert len(server.wait_messages("alice@example.test", 1)) == 1
    log = server.wait_log("event=alias-target-missing")
    assert "rcpt=sales@example.test target=ghost@example.test" in log
    # Once the target exists, the alias takes mail.
    ok(server.cli("user", "add", "ghost@example.test", input="pw\n"))
    assert send(server, ["sales@example.test"])[0].startswith("250")
    assert len(server.wait_messages("ghost@example.test", 1)) == 1
    assert len(server.wait_messages("alice@example.test", 2)) == 2
    # Nothing bounced: the queue is empty.
    assert server.wait_spool_empty() == []


def test_deleted_user_refused_and_yaml_user_seeded_again(server):
    ok(server.cli("user", "add", "gone@example.test", input="pw\n"))
    assert send(server, ["gone@example.test"])[0].startswith("250")
    ok(server.cli("user", "del", "gone@example.test"))
    assert send(server, ["gone@example.test"])[0].startswith("550 5.1.1")
    # YAML users return after a reload even when deleted.
    ok(server.cli("user", "del", "bob@example.test"))
    assert send(server, ["bob@example.test"])[0].startswith("550")
    server.process.send_signal(1)  # SIGHUP
    assert wait_for(lambda: "bob@example.test" in server.cli("user", "list").stdout)
    assert wait_for(lambda: send(server, ["bob@example.test"])[0].startswith("250"))


def test_postgres_down_answers_451(postgres):
    dsn = postgres.new_database()
    p = Petrel(make_home(), auth={"backend": "postgres", "dsn": '"%s"' % dsn}).start()
    try:
        assert send(p, ["alice@example.test"])[0].startswith("250")
        # Delivered, or deferred if the queue asks after the server is gone.
        wait_for(lambda: "event=delivery" in p.read_log())
        postgres.stop()
        replies = send(p, ["alice@example.test", "x@remote.example"])
        assert replies[0].startswith("451 4.3.0"), replies
        assert replies[1].startswith("451 4.3.0"), replies
        assert "event=userdb-failed" in p.read_log()
        postgres.start()
        assert wait_for(lambda: send(p, ["alice@example.test"])[0].startswith("250"))
        ok(p.cli("queue", "retry"))  # a deferred first message goes now
        msgs = p.wait_messages("alice@example.test", 2)
        assert len(msgs) == 2, p.read_log()[-4000:]
    finally:
        try:
            postgres.start()
        except subprocess.CalledProcessError:
            pass  # already running
        assert p.stop() == 0
        p.check_log_clean()


def on_a_terminal(server, answers, type_ahead=False):
    """Runs `petrel user add` on a pty, answering each password prompt
    (or typing every answer at once, before any prompt). Never waits
    more than a few seconds for anything: a lost answer is a failure,
    not a hang."""
    import pty
    import select
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(PETREL, [PETREL, "-c", server.config_path, "user", "add",
                          "tty@example.test"])
    deadline = time.time() + 10 * SLOW
    output = b""

    def read_some():
        nonlocal output
        ready, _, _ = select.select([fd], [], [], max(0, deadline - time.time()))
        if not ready:
            return False
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # EIO: the child closed the terminal
            return False
        output += chunk
        return bool(chunk)

    try:
        if type_ahead:
            os.write(fd, b"".join(answers))
        else:
            for answer in answers:
                while b"assword: " not in output.split(b"\n")[-1]:
                    assert read_some(), "no prompt: %r" % output
                os.write(fd, answer)
                output += b"\n"
        while read_some():
            pass
        for _ in range(int(50 * SLOW)):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status), output.decode()
            time.sleep(0.1)
        raise AssertionError("petrel user add still waiting: %r" % output)
    finally:
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)


def test_password_prompted_twice_on_a_terminal(server):
    code, out = on_a_terminal(server, [b"one\n", b"two\n"])
    assert code == 1 and "do not match" in out
    code, out = on_a_terminal(server, [b"same pw\n", b"same pw\n"])
    assert code == 0 and "added tty@example.test" in out
    assert "same pw" not in out  # echo was off
    assert server.cli("user", "del", "tty@example.test").returncode == 0
    # Typed ahead of the prompts: once thrown away by a TCSAFLUSH made
    # after the prompt, and then the command (and the test) waited forever.
    code, out = on_a_terminal(server, [b"ahead pw\n", b"ahead pw\n"], type_ahead=True)
    assert code == 0 and "added tty@example.test" in out, out
