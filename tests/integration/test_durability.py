"""Never lose mail: SIGKILL at random moments under load, disk full while
spooling, partial and corrupt spool entries, recovery at start."""

import os
import random
import shutil
import signal
import smtplib
import subprocess
import threading
import time

import pytest

from conftest import Petrel, Raw, SLOW, make_home, QUEUED

TOTAL = 200
CLIENTS = 8


def send_until_failure(port, tokens, acked, lock, stop):
    """Sends messages with unique tokens; records those answered 250."""
    while not stop.is_set():
        with lock:
            if not tokens:
                return
            token = tokens.pop()
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=10 * SLOW) as s:
                s.ehlo("client.test")
                msg = ("Subject: %s\r\nMessage-ID: <%s@client.test>\r\n\r\n%s\r\n"
                       % (token, token, token * 20))
                s.sendmail("s@client.test", ["test@example.test"], msg)
            with lock:
                acked.add(token)
        except (OSError, smtplib.SMTPException):
            with lock:
                tokens.append(token)  # not acknowledged: send again later
            time.sleep(0.05)


def delivered_tokens(server):
    found = set()
    for body in server.messages("test@example.test"):
        for line in body.split(b"\r\n"):
            if line.startswith(b"Subject: tok"):
                found.add(line[len(b"Subject: "):].decode())
    return found


def test_sigkill_under_load_loses_nothing():
    home = make_home()
    server = Petrel(home).start()
    tokens = ["tok%04d" % i for i in range(TOTAL)]
    acked = set()
    lock = threading.Lock()
    rng = random.Random()
    kills = 0
    try:
        while True:
            with lock:
                if not tokens:
                    break
            stop = threading.Event()
            threads = [threading.Thread(target=send_until_failure,
                                        args=(server.plain_port, tokens, acked, lock, stop))
                       for _ in range(CLIENTS)]
            for t in threads:
                t.start()
            if kills < 3:
                # Kill at a random point of the load, measured in acks so
                # that it always lands mid-stream however fast we are.
                target = rng.randint(20, 60) + 60 * kills
                while len(acked) < target and any(t.is_alive() for t in threads):
                    time.sleep(0.001)
                server.stop(signal.SIGKILL)
                kills += 1
                stop.set()
            for t in threads:
                t.join()
            if server.process is None:
                server.start()
        assert kills == 3
        deadline = time.time() + 30 * SLOW
        while time.time() < deadline and not acked <= delivered_tokens(server):
            time.sleep(0.2)
        missing = acked - delivered_tokens(server)
        assert not missing, "acknowledged but lost: %s" % sorted(missing)
        assert len(acked) == TOTAL
        assert "level=panic" not in server.read_log()
    finally:
        server.stop(signal.SIGKILL)
        shutil.rmtree(home, ignore_errors=True)


def mount_tmpfs(path, size):
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0755" % size,
                             "tmpfs", path], capture_output=True)
    return result.returncode == 0


def test_disk_full_while_spooling():
    home = make_home()
    if not mount_tmpfs(home, "10m"):
        pytest.skip("cannot mount a tmpfs here (not root?)")
    server = None
    try:
        server = Petrel(home, limits={"message_size": 30 * 1024 * 1024}).start()
        c = Raw(server.plain_port)
        c.cmd("EHLO client.test")
        assert c.cmd("MAIL FROM:<s@client.test>") == ["250 2.1.0 Ok"]
        c.cmd("RCPT TO:<test@example.test>")
        assert c.cmd("DATA")[0].startswith("354")
        line = b"x" * 998 + b"\r\n"
        c.send(b"Subject: big\r\n\r\n" + line * 12000)  # 12 MB > 10 MB tmpfs
        assert c.cmd(b".\r\n") == ["452 4.3.1 Insufficient system storage"]
        # Nothing half-written left behind, nothing queued.
        assert server.tmp_files() == []
        assert server.spool_files() == []
        # The server keeps running and takes a message that fits.
        assert c.cmd("MAIL FROM:<s@client.test>") == ["250 2.1.0 Ok"]
        c.cmd("RCPT TO:<test@example.test>")
        c.cmd("DATA")
        assert QUEUED.match(c.cmd(b"Subject: small\r\n\r\nfits\r\n.\r\n")[-1])
        assert len(server.wait_messages("test@example.test", 1)) == 1
        # With the disk nearly full, MAIL itself is refused (temporarily).
        with open(os.path.join(home, "filler"), "wb") as f:
            try:
                f.write(b"\0" * (9 * 1024 * 1024))
            except OSError:
                pass
        assert c.cmd(b"MAIL FROM:<s@client.test>\r\n") in (
            ["452 4.3.1 Insufficient system storage"], ["250 2.1.0 Ok"])
        c.cmd("RSET")
        c.cmd("MAIL FROM:<s@client.test>")
        c.cmd("RCPT TO:<test@example.test>")
        c.cmd("DATA")
        reply = c.cmd(b"Subject: small\r\n\r\n" + line * 2000 + b".\r\n")
        assert reply[0].startswith("452 4.3.1") or reply[0].startswith("503"), reply
        assert server.tmp_files() == []
        # Space freed by someone else is seen again within seconds: a full
        # disk is not believed full for ever.
        os.remove(os.path.join(home, "filler"))
        c.cmd("RSET")
        deadline = time.time() + 5 * SLOW
        while c.cmd("MAIL FROM:<s@client.test>") != ["250 2.1.0 Ok"]:
            assert time.time() < deadline, "MAIL still refused with the disk free"
            c.cmd("RSET")
            time.sleep(0.2)
    finally:
        if server:
            code = server.stop()
            server.check_log_clean()
            assert code == 0
        subprocess.run(["umount", home])
        shutil.rmtree(home, ignore_errors=True)


def test_partial_and_corrupt_spool_entries(home):
    server = Petrel(home)
    os.makedirs(os.path.join(home, "spool", "tmp"))
    os.makedirs(os.path.join(home, "spool", "queue"))
    partial = os.path.join(home, "spool", "tmp", "1K0YXEC2ZAB0040Y")
    with open(partial, "wb") as f:
        f.write(b"PETREL-SPOOL 1\nI 16:1K0YXEC2ZAB0040Y\nS 0:\n")  # cut mid-write
    corrupt = os.path.join(home, "spool", "queue", "1K0YXEC2ZAB0041Y")
    with open(corrupt, "wb") as f:
        f.write(b"PETREL-SPOOL 1\nI 16:1K0YXEC2ZAB0041Y\nS 0:\nR 5:a@b.c\nM 100:\nshort")
    server.start()
    try:
        deadline = time.time() + 10 * SLOW
        while time.time() < deadline and os.path.exists(corrupt):
            time.sleep(0.05)
        assert not os.path.exists(partial)
        assert not os.path.exists(corrupt)
        assert os.path.exists(os.path.join(home, "spool", "corrupt", "1K0YXEC2ZAB0041Y"))
        log = server.read_log()
        assert "event=spool-discard-partial" in log
        assert "event=spool-corrupt id=1K0YXEC2ZAB0041Y" in log
    finally:
        assert server.stop() == 0


def test_queued_message_survives_restart(home):
    """A message committed while the queue cannot deliver stays in the
    spool across a stop and is delivered after the next start (the retry
    schedule is kept across restarts; here it is one second)."""
    server = Petrel(home, extra_yaml="queue: {retry: [1s]}\n").start()
    mail = os.path.join(home, "mail")
    os.chmod(mail, 0o000)  # deliveries fail temporarily
    try:
        if os.getuid() == 0 and os.access(mail, os.W_OK) and \
                subprocess.run(["id", "-u", "nobody"], capture_output=True).returncode:
            pytest.skip("no unprivileged user to make the mailbox unwritable")
        with smtplib.SMTP("127.0.0.1", server.plain_port) as s:
            s.sendmail("s@client.test", ["test@example.test"], "Subject: later\r\n\r\nx\r\n")
        time.sleep(0.5 * SLOW)
        assert len(server.spool_files()) == 1
        assert server.stop() == 0
    finally:
        os.chmod(mail, 0o700)
    server.start()
    try:
        assert len(server.wait_messages("test@example.test", 1)) == 1
        assert server.wait_spool_empty() == []
    finally:
        assert server.stop() == 0


def test_spool_files_are_recycled_empty(petrel):
    """A delivered message leaves its spool file emptied in free/, and the
    next message reuses that file instead of allocating a new inode."""
    free = os.path.join(petrel.home, "spool", "free")
    seen = set()
    for i in range(5):
        with smtplib.SMTP("127.0.0.1", petrel.plain_port) as s:
            s.sendmail("s@client.test", ["test@example.test"],
                       "Subject: m%d\r\n\r\nsecret body %d\r\n" % (i, i))
        assert len(petrel.wait_messages("test@example.test", i + 1)) == i + 1
        deadline = time.time() + 5 * SLOW
        while time.time() < deadline and not os.listdir(free):
            time.sleep(0.02)
        names = os.listdir(free)
        assert len(names) == 1, names
        st = os.stat(os.path.join(free, names[0]))
        assert st.st_size == 0  # no mail, no disk space kept
        seen.add(st.st_ino)
    assert len(seen) == 1  # one inode served all five messages
    assert petrel.wait_spool_empty() == []
    msgs = petrel.messages("test@example.test")
    assert sorted(m.split(b"secret body ")[1][:1] for m in msgs) == [b"0", b"1", b"2",
                                                                      b"3", b"4"]


def test_spool_file_with_foreign_id_is_not_delivered(home):
    """A spool file whose recorded ID differs from its name (stale or
    recycled content) is set aside, never delivered."""
    server = Petrel(home)
    os.makedirs(os.path.join(home, "spool", "queue"))
    stale = os.path.join(home, "spool", "queue", "1K0YXEC2ZAB0042Y")
    body = b"Subject: old\r\n\r\nold\r\n"
    with open(stale, "wb") as f:
        f.write(b"PETREL-SPOOL 1\nI 16:1K0YXEC2ZAB0040Y\nT 1:0\nS 5:a@b.c\n"
                b"R 17:test@example.test\nM %d:\n" % len(body) + body)
    server.start()
    try:
        deadline = time.time() + 10 * SLOW
        while time.time() < deadline and os.path.exists(stale):
            time.sleep(0.05)
        assert os.path.exists(os.path.join(home, "spool", "corrupt", "1K0YXEC2ZAB0042Y"))
        assert "queue id inside differs" in server.read_log()
        assert server.messages("test@example.test") == []
    finally:
        assert server.stop() == 0
