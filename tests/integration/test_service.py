"""Running petrel like a service: a pid file, `petrel status`, `petrel
reload` and `petrel stop` through the master's control socket, and the
systemd unit and logrotate example in contrib/."""

import os
import re
import shutil
import subprocess

import pytest

from conftest import PETREL, SLOW, Petrel, Raw, make_home, wait_for

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def run(p, *args, timeout=120):
    return subprocess.run([PETREL, "-c", p.config_path] + list(args), capture_output=True,
                          text=True, timeout=timeout * SLOW)


def test_status_pid_file_and_a_second_start(petrel):
    pid_file = os.path.join(petrel.home, "run", "petrel.pid")
    with open(pid_file) as f:
        assert int(f.read()) == petrel.process.pid
    status = run(petrel, "status")
    assert status.returncode == 0, status.stderr
    out = status.stdout
    assert "pid: %d\n" % petrel.process.pid in out
    version = subprocess.run([PETREL, "--version"], capture_output=True, text=True).stdout
    assert "version: %s\n" % version.split()[1] in out
    assert re.search(r"uptime: 0d 0h 0m \d+s \(since \d{4}-\d\d-\d\dT", out)
    assert "config: %s\n" % petrel.config_path in out
    assert "listener: smtp 127.0.0.1:%d tls=starttls\n" % petrel.smtp_port in out
    assert "listener: submission 127.0.0.1:%d tls=starttls\n" % petrel.submission_port in out
    assert "processes: workers 1, queue 1, auth 1\n" in out
    assert "queue: 0 messages" in out
    # A second daemon on the same home is refused, and names the first.
    second = run(petrel, "serve", timeout=30)
    assert second.returncode == 1
    assert ("petrel is already running on %s (pid %d, %s)"
            % (petrel.home, petrel.process.pid, pid_file)) in second.stderr
    assert petrel.process.poll() is None
    with open(pid_file) as f:
        assert int(f.read()) == petrel.process.pid


def test_reload_says_whether_it_worked(petrel):
    c = Raw(petrel.plain_port)
    c.cmd("EHLO client.test")
    c.cmd("MAIL FROM:<a@remote.example>")
    assert c.cmd("RCPT TO:<x@new.test>")[-1].startswith("550")
    with open(petrel.config_path) as f:
        good = f.read()
    with open(petrel.config_path, "w") as f:
        f.write(good.replace("domains: [", "domains: [new.test, "))
    r = run(petrel, "reload")
    assert r.returncode == 0 and r.stdout == "reloaded\n", r.stderr
    assert wait_for(lambda: "event=reloaded" in petrel.read_log())
    assert petrel.cli("user", "add", "x@new.test", input="pw\n").returncode == 0

    def accepted():
        c = Raw(petrel.plain_port)
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<a@remote.example>")
        return c.cmd("RCPT TO:<x@new.test>")[-1].startswith("250")
    assert wait_for(accepted)
    # A configuration that does not load is refused; the running one stays.
    with open(petrel.config_path, "w") as f:
        f.write(good + "limits: {recipients: lots}\n")
    r = run(petrel, "reload")
    assert r.returncode == 1 and r.stdout == ""
    assert "expected a number from 1 to 100000, not 'lots'" in r.stderr
    # One the daemon cannot use (the CLI only reads it) says so too.
    with open(petrel.config_path, "w") as f:
        f.write(good + "tls: {certificate: /nonexistent/cert.pem, key: /nonexistent/k}\n")
    r = run(petrel, "reload")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.startswith("petrel: reload refused, the running configuration stays: ")
    assert "/nonexistent/cert.pem" in r.stderr
    assert "event=reload-failed" in petrel.read_log()
    assert accepted()
    with open(petrel.config_path, "w") as f:
        f.write(good)


def test_stop_waits_for_the_exit():
    p = Petrel(make_home()).start()
    pid_file = os.path.join(p.home, "run", "petrel.pid")
    r = run(p, "stop")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "stopping\nstopped\n"
    assert p.process.poll() == 0  # gone when stop returned
    assert not os.path.exists(pid_file)
    assert not os.path.exists(os.path.join(p.home, "run", "master.sock"))
    status = run(p, "status")
    assert status.returncode == 3
    assert status.stdout == "petrel is not running (home %s)\n" % p.home
    again = run(p, "stop")
    assert again.returncode == 0 and "not running" in again.stdout
    assert run(p, "reload").returncode == 2
    # With --home, a configuration that no longer loads still finds it.
    with open(p.config_path, "a") as f:
        f.write("limits: {recipients: lots}\n")
    r = subprocess.run([PETREL, "-c", p.config_path, "--home", p.home, "status"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 3 and "not running" in r.stdout
    with open(p.config_path) as f:
        text = f.read()
    with open(p.config_path, "w") as f:
        f.write(text.replace("limits: {recipients: lots}\n", ""))
    # A pid file left by a crash (its process gone) does not block a start.
    with open(pid_file, "w") as f:
        f.write("999999\n")
    p.start()
    assert run(p, "status").returncode == 0
    assert p.stop() == 0


def test_service_commands_take_no_arguments(petrel):
    r = run(petrel, "status", "now")
    assert r.returncode == 2 and "unexpected argument 'now'" in r.stderr
    r = run(petrel, "reload", "--force")
    assert r.returncode == 2 and "unknown option '--force'" in r.stderr


def test_systemd_unit_verifies(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze not installed")
    with open(os.path.join(ROOT, "contrib", "petrel.service")) as f:
        unit = f.read()
    assert "ExecStart=/usr/local/bin/petrel -c /etc/petrel/petrel.yaml serve" in unit
    assert "ExecReload=/usr/local/bin/petrel -c /etc/petrel/petrel.yaml reload" in unit
    assert "KillMode=mixed" in unit
    # Verified against the binary under test (verify wants it to exist).
    path = tmp_path / "petrel.service"
    path.write_text(unit.replace("/usr/local/bin/petrel", os.path.abspath(PETREL)))
    r = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stderr == "", r.stderr


def test_logrotate_example_parses(tmp_path):
    if shutil.which("logrotate") is None:
        pytest.skip("logrotate not installed")
    with open(os.path.join(ROOT, "contrib", "logrotate", "petrel")) as f:
        conf = f.read()
    log = tmp_path / "petrel.log"
    log.write_text("ts=... event=start\n" * 10)
    conf = conf.replace("/var/log/petrel/petrel.log", str(log))
    conf_path = tmp_path / "petrel.logrotate"
    conf_path.write_text(conf)
    r = subprocess.run(["logrotate", "-f", "-s", str(tmp_path / "state"), str(conf_path)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert log.read_text() == ""  # copied and truncated in place
    assert (tmp_path / "petrel.log.1").read_text().count("event=start") == 10
