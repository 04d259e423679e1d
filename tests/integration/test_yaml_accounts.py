"""Users and aliases declared in the YAML file: password hashes in the
schemes petrel imports (never taken as the password itself), a
password_file, and aliases seeded into the user database."""

import os
import subprocess

import pytest

from conftest import PETREL, Petrel, Raw, make_home
from test_auth import plain, starttls
from test_userdb import passwd_file_hashes, send


def with_accounts(p, users, aliases=""):
    """Adds user lines under the harness's `users:` and an aliases block."""
    with open(p.config_path) as f:
        text = f.read()
    text = text.replace("users:\n", "users:\n" + "".join("  - %s\n" % u for u in users), 1)
    with open(p.config_path, "w") as f:
        f.write(text + aliases)
    return p


def login(p, user, password):
    c = starttls(p.submission_port)
    reply = c.cmd("AUTH PLAIN " + plain(user, password))[-1]
    c.close()
    return reply


def test_hashes_password_file_and_plain_text(backend):
    sha512, blf, argon = passwd_file_hashes()  # for imported-sha, -blf, -argon
    home = make_home()
    secret_file = os.path.join(home, "carol.pw")
    with open(secret_file, "w") as f:
        f.write("{SHA512-CRYPT}%s\n" % sha512)
    p = with_accounts(Petrel(home, auth=backend), [
        '{address: sha@example.test, password: "{SHA512-CRYPT}%s"}' % sha512,
        '{address: blf@example.test, password: "{BLF-CRYPT}%s"}' % blf,
        '{address: argon@example.test, password: "%s"}' % argon,  # a bare crypt string
        '{address: carol@example.test, password_file: %s}' % secret_file,
        '{address: dave@example.test, password: "{PLAIN}dave pw"}',
    ]).start()
    try:
        assert login(p, "sha@example.test", "imported-sha").startswith("235")
        assert login(p, "blf@example.test", "imported-blf").startswith("235")
        assert login(p, "argon@example.test", "imported-argon").startswith("235")
        assert login(p, "carol@example.test", "imported-sha").startswith("235")
        assert login(p, "dave@example.test", "dave pw").startswith("235")
        # The hash string is not the password.
        assert login(p, "sha@example.test", "{SHA512-CRYPT}" + sha512).startswith("535")
        assert login(p, "carol@example.test", "{SHA512-CRYPT}" + sha512).startswith("535")
        listing = p.cli("user", "list").stdout
        rows = {l.split()[0]: l.split() for l in listing.splitlines()[1:]}
        assert rows["blf@example.test"][3] in ("BLF-CRYPT", "ARGON2ID")  # rehashed at login
        assert rows["dave@example.test"][3] == "ARGON2ID"
        shown = subprocess.run([PETREL, "-c", p.config_path, "check-config"],
                               capture_output=True, text=True, timeout=30)
        assert shown.returncode == 0, shown.stderr
        assert "password_file: \"%s\"}" % secret_file in shown.stdout
        assert sha512 not in shown.stdout and "imported" not in shown.stdout
    finally:
        assert p.stop() == 0


def test_a_bad_hash_or_scheme_is_an_error(backend):
    p = with_accounts(Petrel(make_home(), auth=backend), [
        '{address: md5@example.test, password: "{MD5-CRYPT}$1$abc$0123456789abcdef"}'])
    r = subprocess.run([PETREL, "-c", p.config_path, "check-config"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 1
    assert "unsupported password scheme '{MD5-CRYPT}'" in r.stderr
    p = with_accounts(Petrel(make_home(), auth=backend), [
        '{address: short@example.test, password: "{SHA512-CRYPT}$6$abc"}'])
    r = subprocess.run([PETREL, "-c", p.config_path, "serve"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1
    assert "users: short@example.test: password hash is too short" in r.stderr


def test_yaml_aliases(backend):
    p = with_accounts(Petrel(make_home(), auth=backend), [], aliases=(
        "aliases:\n"
        "  Sales@Example.Test: [alice@example.test, bob@example.test]\n"
        "  info@example.test: sales@example.test\n"
        "  \"@localhost\": test@example.test\n")).start()
    try:
        listing = p.cli("alias", "list").stdout
        assert "sales@example.test" in listing and "@localhost" in listing
        assert all(r.startswith("250") for r in
                   send(p, ["info@example.test", "whoever@localhost"]))
        assert len(p.wait_messages("alice@example.test", 1)) == 1
        assert len(p.wait_messages("bob@example.test", 1)) == 1
        assert len(p.wait_messages("test@example.test", 1)) == 1
        shown = subprocess.run([PETREL, "-c", p.config_path, "check-config"],
                               capture_output=True, text=True, timeout=30).stdout
        assert ('aliases:\n  "sales@example.test": ["alice@example.test", '
                '"bob@example.test"]\n') in shown
    finally:
        assert p.stop() == 0


def test_yaml_alias_to_a_missing_user_is_refused_at_start(backend):
    p = with_accounts(Petrel(make_home(), auth=backend), [], aliases=(
        "aliases:\n  sales@example.test: [alice@example.test, bobb@example.test]\n"))
    r = subprocess.run([PETREL, "-c", p.config_path, "serve"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1
    assert ("aliases: sales@example.test: bobb@example.test does not exist (no user, "
            "alias or catch-all)") in r.stderr
