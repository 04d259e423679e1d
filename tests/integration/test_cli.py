"""The petrel command line: global options before or after the subcommand,
--help and --version, usage errors (exit 2) for unknown options and stray
arguments, and commands that never create a state directory implicitly."""

import os
import re
import shutil
import socket
import subprocess

import pytest

from conftest import PETREL, SLOW, Petrel, Raw, make_home, wait_for
from test_auth import plain, starttls

SUBCOMMANDS = ["serve", "check-config", "status", "reload", "stop", "dns", "queue", "stats",
               "user", "alias", "domain"]


def run(*args, cwd=None, env=None, input=""):
    environment = dict(os.environ)
    environment.pop("PETREL_HOME", None)
    environment.update(env or {})
    return subprocess.run([PETREL] + list(args), capture_output=True, text=True,
                          cwd=cwd, env=environment, input=input, timeout=20 * SLOW)


def test_version():
    out = run("--version")
    assert out.returncode == 0
    assert out.stdout.startswith("petrel ") and out.stdout.strip() != "petrel"


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_has_help(command):
    for args in ([command, "--help"], ["--help", command], [command, "-h"]):
        out = run(*args)
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith("usage: petrel " + command), out.stdout
        assert "--config FILE" in out.stdout
    # Every option the synopsis names has a line of its own saying what it does.
    text = run(command, "--help").stdout
    synopsis = [l for l in text.splitlines() if "petrel " + command in l]
    named = set(re.findall(r"(--[a-z-]+)", " ".join(synopsis)))
    for option in named:
        line = next((l for l in text.splitlines() if l.startswith("  " + option)), None)
        assert line and len(line.split()) >= 2, (option, text)


def test_top_level_help_lists_every_command():
    out = run("--help")
    assert out.returncode == 0
    for command in SUBCOMMANDS:
        assert re.search(r"^  %s +\S" % re.escape(command), out.stdout, re.M), command


@pytest.mark.parametrize("args", [
    ["serve", "--bogus"], ["serve", "extra"], ["check-config", "--bogus"],
    ["check-config", "extra"], ["queue", "list", "--all"], ["user", "add"],
    ["user", "list", "--bogus"], ["user", "del", "a@b", "c@d"],
    ["user", "add", "a@example.test", "--domain", "x"], ["alias", "add", "only@x"],
    ["domain", "list", "extra"], ["dns", "lookup", "x", "A", "--bogus"],
    ["frobnicate"], ["-c"], [],
])
def test_usage_errors(args, tmp_path):
    # None of these may start a server or touch a home: run from an
    # empty directory and check it stays empty.
    out = run(*args, cwd=tmp_path)
    assert out.returncode == 2, (args, out.stdout, out.stderr)
    assert "usage: petrel" in out.stderr
    assert os.listdir(tmp_path) == []


def test_serve_help_does_not_serve(tmp_path):
    out = run("serve", "--help", cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.startswith("usage: petrel serve")
    assert os.listdir(tmp_path) == []


@pytest.fixture
def configured():
    home = make_home()
    server = Petrel(home, hostname="options.example.test")
    yield server
    shutil.rmtree(home, ignore_errors=True)


def test_options_after_the_subcommand(configured):
    cfg = configured.config_path
    for args in (["-c", cfg, "check-config"], ["check-config", "-c", cfg],
                 ["check-config", "--config=" + cfg], ["check-config", "--config", cfg]):
        out = run(*args)
        assert out.returncode == 0, out.stderr
        assert "options.example.test" in out.stdout
    other = make_home()
    out = run("check-config", "--home", other)
    assert out.returncode == 0 and 'home: "%s"' % other in out.stdout
    out = run("check-config", "--home=" + other)
    assert 'home: "%s"' % other in out.stdout
    # A broken file named after the subcommand is checked, not skipped.
    bad = os.path.join(configured.home, "bad.yaml")
    with open(bad, "w") as f:
        f.write("listen: 5\n")
    out = run("check-config", "-c", bad)
    assert out.returncode == 1 and "bad.yaml" in out.stderr


def test_serve_with_config_after_the_subcommand(configured):
    # `petrel serve -c FILE` once started the embedded default instead.
    configured.log = open(configured.log_path, "ab")
    configured.process = subprocess.Popen(
        [PETREL, "serve", "-c", configured.config_path],
        stdout=configured.log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def up():
            try:
                socket.create_connection(("127.0.0.1", configured.plain_port), 0.2).close()
                return True
            except OSError:
                return False
        assert wait_for(up, 10), configured.read_log()
        assert "options.example.test" in Raw(configured.plain_port).banner[0]
    finally:
        assert configured.stop() == 0


def test_relative_home_is_resolved_and_never_created_by_commands(tmp_path):
    # The default home ./var is relative: a user command run elsewhere
    # once created an empty database that the server never read.
    out = run("user", "add", "dave@example.test", cwd=tmp_path, input="pw\n")
    assert out.returncode == 1
    assert "no user database at %s/var/db/users.sqlite" % tmp_path in out.stderr
    assert "home %s/var" % tmp_path in out.stderr
    assert os.listdir(tmp_path) == []
    for args in (["alias", "list"], ["domain", "add", "x.test"], ["user", "list"]):
        assert run(*args, cwd=tmp_path).returncode == 1
        assert os.listdir(tmp_path) == []
    out = run("check-config", cwd=tmp_path)
    assert 'home: "%s/var"' % tmp_path in out.stdout


def test_changes_name_the_home(make_petrel):
    server = make_petrel()
    out = server.cli("user", "add", "carol@example.test", input="pw\n")
    assert out.returncode == 0
    assert out.stdout == "added carol@example.test (home %s)\n" % server.home
    out = server.cli("alias", "add", "team@example.test", "carol@example.test")
    assert "(home %s)" % server.home in out.stdout
    out = server.cli("user", "del", "carol@example.test")
    assert "(home %s)" % server.home in out.stdout


def test_check_config_prints_durations_as_written(tmp_path):
    config = tmp_path / "petrel.yaml"
    config.write_text("home: %s\nqueue: {retry: [90s, 15m, 2h], retry_interval: 1d, "
                      "delay_warning: 3600}\nauth: {cache: {ttl: 15m}}\n" % make_home())
    out = run("-c", str(config), "check-config")
    assert out.returncode == 0, out.stderr
    assert "  retry: [90s, 15m, 2h]\n" in out.stdout
    assert "  retry_interval: 1d\n" in out.stdout
    assert "  delay_warning: 1h\n" in out.stdout
    assert "    ttl: 15m\n" in out.stdout
    assert "900s" not in out.stdout and "86400s" not in out.stdout


def test_lists_have_headers_and_counts(petrel):
    users = petrel.cli("user", "list").stdout.splitlines()
    assert users[0].split() == ["ADDRESS", "QUOTA", "STATE", "SCHEME"]
    assert users[-1] == "-- 4 users"
    assert petrel.cli("user", "list", "localhost").stdout.splitlines()[-1] == \
        "-- 0 users in localhost"
    assert petrel.cli("alias", "add", "team@example.test", "alice@example.test",
                      "bob@example.test").returncode == 0
    assert petrel.cli("alias", "add", "@localhost", "test@example.test").returncode == 0
    aliases = petrel.cli("alias", "list").stdout.splitlines()
    assert aliases[0].split() == ["ALIAS", "TARGET"]
    assert aliases[-1] == "-- 2 aliases, 3 targets"
    assert petrel.cli("alias", "list", "localhost").stdout.splitlines()[-1] == \
        "-- 1 alias, 1 target in localhost"
    domains = petrel.cli("domain", "list").stdout.splitlines()
    assert domains[0].split() == ["DOMAIN", "USERS", "ALIASES"]
    assert domains[-1] == "-- 2 domains"
    # The queue: a header above the messages, a count below.
    assert petrel.cli("queue", "list").stdout == "-- 0 messages in the queue\n"
    s = starttls(petrel.submission_port)
    assert s.cmd("AUTH PLAIN " + plain("alice@example.test", "secret"))[-1].startswith("235")
    s.cmd("MAIL FROM:<alice@example.test>")
    assert s.cmd("RCPT TO:<someone@remote.example>")[-1].startswith("250")
    s.cmd("DATA")
    assert s.cmd("Subject: x\r\n\r\nx\r\n.")[-1].startswith("250")
    listing = wait_for(lambda: "someone@remote.example" in petrel.cli("queue", "list").stdout
                       and petrel.cli("queue", "list").stdout)
    lines = listing.splitlines()
    assert re.match(r"QUEUE ID +SIZE +ARRIVAL +SENDER, RECIPIENTS NOT YET DELIVERED$",
                    lines[0]), lines[0]
    assert re.match(r"[0-9A-Z]{16}  +\d+  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d  <alice@example\.test>",
                    lines[1]), lines[1]
    assert lines[-1] == "-- 1 message in the queue"
