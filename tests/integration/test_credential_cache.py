"""The verified-credential cache (issue 10, auth): a right password is
checked once and then remembered (no database, no argon2id), a wrong one
fails at once but still counts towards lockouts, and `petrel user passwd`,
`del` and `disable` make a running daemon forget the user's logins at once.
"""
import re

from conftest import SLOW, Raw, client_tls_context
from test_auth import plain, starttls


def login(server, user, password):
    c = starttls(server.submission_port)
    reply = c.cmd("AUTH PLAIN " + plain(user, password))[-1]
    c.sock.close()
    return reply


def auth_lines(server, user):
    return [l for l in server.read_log().splitlines()
            if "event=auth " in l and "user=%s" % user in l]


def test_right_password_remembered_until_changed(make_petrel):
    server = make_petrel(password="first")
    user = "alice@example.test"
    assert login(server, user, "first").startswith("235")
    assert login(server, user, "first").startswith("235")
    lines = auth_lines(server, user)
    assert "result=ok" in lines[0] and "cached=no" in lines[0]
    assert "result=ok" in lines[1] and "cached=yes" in lines[1]
    # a new password: the old one stops working at once, not after the TTL
    out = server.cli("user", "passwd", user, input="second\n")
    assert out.returncode == 0, out.stderr
    assert "event=userdb-changed user=%s credentials_flushed=1" % user in server.read_log()
    assert login(server, user, "first").startswith("535")
    assert login(server, user, "second").startswith("235")
    # disabled: refused at once
    assert login(server, user, "second").startswith("235")
    out = server.cli("user", "disable", user)
    assert out.returncode == 0, out.stderr
    assert login(server, user, "second").startswith("535")
    assert "reason=\"user disabled\"" in auth_lines(server, user)[-1]


def test_wrong_password_fails_at_once_and_still_counts(make_petrel):
    server = make_petrel(auth={"failures": "{delay_ms: 0, lockout_after_user: 3}"})
    user = "bob@example.test"
    for _ in range(2):
        assert login(server, user, "guess").startswith("535")
    lines = auth_lines(server, user)
    assert "cached=no" in lines[0] and "cached=yes" in lines[1]
    assert "failures=2" in lines[1]
    # the third failure locks the name out, cache or not
    assert login(server, user, "guess").startswith("535")
    assert login(server, user, "secret").startswith("454")  # locked: tempfail


def test_cache_off(make_petrel):
    server = make_petrel(auth={"cache": "{size: 0}"})
    user = "alice@example.test"
    for _ in range(2):
        assert login(server, user, "secret").startswith("235")
    assert all("cached=no" in l for l in auth_lines(server, user))
    # with no daemon cache, user passwd still works and says nothing more
    out = server.cli("user", "passwd", user, input="other\n")
    assert out.returncode == 0 and out.stderr == ""


def test_user_commands_without_a_daemon(make_petrel):
    server = make_petrel()
    server.stop()
    out = server.cli("user", "passwd", "alice@example.test", input="x\n")
    assert out.returncode == 0 and out.stderr == "", out.stderr
