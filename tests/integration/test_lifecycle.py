"""Process life cycle: SIGTERM loses nothing acknowledged and lets a
message in flight finish; SIGHUP reloads; children are supervised."""

import os
import signal
import smtplib
import subprocess
import time

from conftest import Petrel, QUEUED, Raw, SLOW


def test_sigterm_finishes_message_in_flight(home):
    server = Petrel(home).start()
    c = Raw(server.plain_port)
    idle = Raw(server.plain_port)
    c.cmd("EHLO client.test")
    c.cmd("MAIL FROM:<s@client.test>")
    c.cmd("RCPT TO:<test@example.test>")
    assert c.cmd("DATA")[0].startswith("354")
    c.send(b"Subject: in flight\r\n\r\nfirst half\r\n")
    server.process.send_signal(signal.SIGTERM)
    # An idle session is told at once.
    assert idle.reply() == ["421 4.3.2 Service shutting down, try again later"]
    # New connections are no longer accepted... (the listener is closed)
    time.sleep(0.3)
    # ...but the message in flight completes and is acknowledged.
    c.send(b"second half\r\n")
    reply = c.cmd(b".\r\n")
    assert QUEUED.match(reply[-1]), reply
    assert c.reply() == ["421 4.3.2 Service shutting down, try again later"]
    server.process.wait(timeout=30 * SLOW)
    assert server.process.returncode == 0
    server.process = None
    server.log.close()
    assert "event=stopped" in server.read_log()
    # Delivered now or after the next start: never lost.
    server.start()
    try:
        msgs = server.wait_messages("test@example.test", 1)
        assert len(msgs) == 1 and b"first half\r\nsecond half" in msgs[0]
    finally:
        assert server.stop() == 0


def test_sighup_reloads_config(home):
    server = Petrel(home).start()
    try:
        old_session = Raw(server.plain_port)
        old_session.cmd("EHLO client.test")
        with open(server.config_path) as f:
            text = f.read()
        with open(server.config_path, "w") as f:
            f.write(text.replace("  - {address: bob@example.test, password: secret}",
                                 "  - {address: bob@example.test, password: secret}\n"
                                 "  - {address: carol@example.test, password: secret}"))
        server.process.send_signal(signal.SIGHUP)
        server.wait_log("event=reloaded", timeout=10)
        time.sleep(0.3 * SLOW)
        with smtplib.SMTP("127.0.0.1", server.plain_port) as s:
            s.sendmail("s@client.test", ["carol@example.test"], "Subject: new\r\n\r\nx\r\n")
        assert len(server.wait_messages("carol@example.test", 1)) == 1
        # The session opened before the reload is still served.
        assert old_session.cmd("NOOP") == ["250 2.0.0 Ok"]
        old_session.cmd("QUIT")
        # A broken config is refused and the server keeps the old one.
        with open(server.config_path, "a") as f:
            f.write("limits: {recipients: -1}\n")
        server.process.send_signal(signal.SIGHUP)
        assert "event=reload-failed" in server.wait_log("event=reload-failed", timeout=10)
        with smtplib.SMTP("127.0.0.1", server.plain_port) as s:
            s.sendmail("s@client.test", ["carol@example.test"], "Subject: new\r\n\r\nx\r\n")
        assert len(server.wait_messages("carol@example.test", 2)) == 2
    finally:
        assert server.stop() == 0


def test_worker_crash_is_restarted(home):
    server = Petrel(home).start()
    try:
        out = subprocess.run(["pgrep", "-P", str(server.process.pid)], capture_output=True,
                             text=True)
        children = [int(p) for p in out.stdout.split()]
        assert len(children) == 2  # the queue and one worker
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        deadline = time.time() + 10 * SLOW
        while time.time() < deadline:
            log = server.read_log()
            if log.count("event=spawned") >= 4:
                break
            time.sleep(0.1)
        time.sleep(0.5)
        with smtplib.SMTP("127.0.0.1", server.plain_port) as s:
            s.sendmail("s@client.test", ["test@example.test"], "Subject: after\r\n\r\nx\r\n")
        assert len(server.wait_messages("test@example.test", 1)) == 1
    finally:
        assert server.stop() == 0


def test_privileges_dropped(home):
    if os.getuid() != 0:
        return  # nothing to drop
    server = Petrel(home).start()
    try:
        out = subprocess.run(["pgrep", "-P", str(server.process.pid)], capture_output=True,
                             text=True)
        for pid in out.stdout.split():
            with open("/proc/%s/status" % pid) as f:
                uids = [l for l in f if l.startswith("Uid:")][0].split()[1:]
            assert all(u != "0" for u in uids), uids
    finally:
        assert server.stop() == 0
