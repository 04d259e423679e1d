"""Process life cycle: SIGTERM loses nothing acknowledged and lets a
message in flight finish; SIGHUP reloads; children are supervised."""

import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import PETREL, Petrel, QUEUED, Raw, SLOW


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
        children = children_of(server.process.pid)
        assert len(children) == 3  # the auth process, the queue and one worker
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        deadline = time.time() + 10 * SLOW
        while time.time() < deadline:
            log = server.read_log()
            if log.count("event=spawned") >= 6:
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
        auth = [int(p) for p in re.findall(r"event=spawned kind=auth child=(\d+)",
                                           server.read_log())]
        for pid in children_of(server.process.pid):
            with open("/proc/%s/status" % pid) as f:
                uids = [l for l in f if l.startswith("Uid:")][0].split()[1:]
            if pid in auth:
                # the auth process keeps root: the user database is root's
                # and no process facing the network can open it
                assert all(u == "0" for u in uids), uids
            else:
                assert all(u != "0" for u in uids), uids
    finally:
        assert server.stop() == 0


def children_of(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def alive(pid):
    """True while any thread of pid runs. A zombie leader counts as gone
    only once its other threads have exited too: until then they still
    hold the process's files, the listening sockets among them."""
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except FileNotFoundError:
        return False
    for task in tasks:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, task)) as f:
                if f.read().split(") ")[1][0] != "Z":
                    return True
        except (FileNotFoundError, ProcessLookupError):
            pass
    return False


def test_master_killed_takes_its_children(home):
    # PR_SET_PDEATHSIG was set before the privilege drop, which clears it:
    # a master killed with SIGKILL left its queue and workers running,
    # holding the ports, and the restart failed with "Address in use".
    server = Petrel(home).start()
    children = children_of(server.process.pid)
    assert len(children) >= 2
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait()
    deadline = time.time() + 1.0 * SLOW
    while time.time() < deadline and any(alive(pid) for pid in children):
        time.sleep(0.05)
    assert not any(alive(pid) for pid in children), children
    server.process = None
    server.log.close()
    server.start()
    try:
        with smtplib.SMTP("127.0.0.1", server.plain_port) as s:
            s.sendmail("s@client.test", ["test@example.test"], "Subject: again\r\n\r\nx\r\n")
        assert len(server.wait_messages("test@example.test", 1)) == 1
    finally:
        assert server.stop() == 0


def refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), 1).close()
        return False
    except OSError:
        return True


def test_state_directory_the_account_cannot_enter():
    # A 0700 directory of root's above the home: the queue and the workers
    # (running as nobody) once died at start every second, for ever, while
    # the ports kept accepting connections nobody answered.
    if os.getuid() != 0:
        pytest.skip("needs root, to run the daemon as another account")
    parent = tempfile.mkdtemp(prefix="petrel-locked-")  # 0700, root's
    try:
        home = os.path.join(parent, "var")
        os.mkdir(home)
        server = Petrel(home)
        out = subprocess.run([PETREL, "-c", server.config_path, "serve"],
                             capture_output=True, text=True, timeout=20 * SLOW)
        assert out.returncode == 1, out.stderr
        assert ("the state directory %s is not usable by user nobody" % home
                in out.stderr), out.stderr
        assert "Permission denied" in out.stderr
        assert refused(server.plain_port)
    finally:
        shutil.rmtree(parent, ignore_errors=True)


@pytest.mark.timeout(120 * SLOW)
def test_children_failing_at_start_back_off_then_give_up(home):
    # The home becomes unreachable while running (a 0700 directory of
    # root's): every restart fails at once. Restarts back off (1, 2, 4,
    # 8 s) and the master then stops with an error, closing the ports.
    if os.getuid() != 0:
        pytest.skip("needs root, to run the daemon as another account")
    server = Petrel(home).start()
    os.chmod(home, 0o700)
    for pid in children_of(server.process.pid):
        os.kill(pid, signal.SIGKILL)
    server.process.wait(timeout=60 * SLOW)
    assert server.process.returncode == 1
    log = server.read_log()
    assert "event=giving-up" in log
    assert log.count("event=spawned kind=queue") == 5, log  # the first and 4 restarts
    assert refused(server.plain_port)
    server.process = None
    server.log.close()


def test_sigterm_just_after_a_spawn_stops_everything(home):
    # A SIGTERM reaching a child between its fork and its own loop once ran
    # the master's inherited handler and was lost: the child kept serving
    # and the master waited for it until its deadline. A reload followed at
    # once by a stop puts the new workers' start in that window.
    server = Petrel(home)
    for _ in range(4):
        server.start()
        server.process.send_signal(signal.SIGHUP)
        server.process.send_signal(signal.SIGTERM)
        try:
            code = server.process.wait(timeout=10 * SLOW)
        except subprocess.TimeoutExpired:
            code = None
        assert code == 0, server.read_log()[-3000:]
        server.stop()
