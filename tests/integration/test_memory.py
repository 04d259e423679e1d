"""Bounded memory: messages stream to the spool as they arrive. Dozens of
sessions in the middle of large messages must not grow the worker by
more than a small constant each (it once held every message whole: 20
sessions x 20 MB took a worker from 13 MB to 415 MB)."""

import os
import time

import pytest

from conftest import QUEUED, SANITIZED, Petrel, Raw, rss_kib, wait_for, worker_pids

SESSIONS = 40
MESSAGE_MB = 5
# Per session in DATA: 64 KB read ahead, two 64 KB spool buffers (one
# being written), what a span of input adds to them, and the header
# section: a few hundred KB. 40 sessions x 1 MB leaves room for the
# allocator; holding the messages would need 200 MB.
GROWTH_MAX_KIB = SESSIONS * 1024


@pytest.mark.parametrize("command", ["DATA", "BDAT"])
def test_sessions_in_the_middle_of_large_messages(home, command):
    env = None
    if SANITIZED:
        # ASan keeps freed memory in a quarantine (256 MB by default):
        # that is the sanitizer's, not petrel's. Keep it small here.
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=8"
    server = Petrel(home, limits={"message_size": 50 * 1024 * 1024},
                    extra_yaml="workers: 1\n").start(env=env)
    try:
        [worker] = wait_for(lambda: worker_pids(server), 10)
        # Warm up: one whole message, so that buffers and the TLS and
        # spool machinery exist before the baseline.
        c = Raw(server.plain_port)
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<s@client.test>")
        c.cmd("RCPT TO:<test@example.test>")
        c.cmd("DATA")
        assert QUEUED.match(c.cmd(b"Subject: warm\r\n\r\n" + b"x" * 998 + b"\r\n.\r\n")[-1])
        c.close()
        time.sleep(0.5)
        baseline = rss_kib(worker)

        line = b"y" * 998 + b"\r\n"
        chunk = line * 64  # 64,000 octets
        clients = []
        for i in range(SESSIONS):
            c = Raw(server.plain_port)
            c.cmd("EHLO client.test")
            c.cmd("MAIL FROM:<s@client.test>")
            c.cmd("RCPT TO:<test@example.test>")
            head = b"Subject: big %d\r\n\r\n" % i
            if command == "DATA":
                assert c.cmd("DATA")[0].startswith("354")
                c.send(head)
            else:
                c.send(b"BDAT %d\r\n" % len(head) + head)
            clients.append(c)
        total = MESSAGE_MB * 1024 * 1024
        for _ in range(total // len(chunk)):
            for c in clients:
                c.send(chunk if command == "DATA" else b"BDAT %d\r\n" % len(chunk) + chunk)
        # Everything sent has been read: the spool holds nearly all of it.
        tmp = os.path.join(server.home, "spool", "tmp")

        def on_disk():
            return sum(os.path.getsize(os.path.join(tmp, n)) for n in os.listdir(tmp))
        sent = SESSIONS * (total // len(chunk)) * len(chunk)
        streamed = wait_for(lambda: on_disk() >= sent - SESSIONS * 512 * 1024, 10)
        peak = rss_kib(worker)
        growth = peak - baseline
        assert growth < GROWTH_MAX_KIB, "worker grew by %d KiB (baseline %d)" % (
            growth, baseline)
        assert streamed, "only %d of %d octets in the spool" % (on_disk(), sent)
        # And every message still arrives whole.
        for c in clients:
            if command == "DATA":
                assert QUEUED.match(c.cmd(b".\r\n")[-1])
            else:
                for _ in range(1 + total // len(chunk)):
                    assert c.reply()[0].startswith("250 2.0.0 Ok: ")
                assert QUEUED.match(c.cmd(b"BDAT 0 LAST\r\n")[-1])
            c.close()
        msgs = server.wait_messages("test@example.test", SESSIONS + 1, timeout=60)
        assert len(msgs) == SESSIONS + 1
        big = [m for m in msgs if b"Subject: big " in m]
        assert all(m.count(line) == total // len(chunk) * 64 for m in big)
        print("%s: worker RSS: baseline %d KiB, with %d sessions x %d MB in flight %d KiB"
              % (command, baseline, SESSIONS, MESSAGE_MB, peak))
    finally:
        assert server.stop() == 0
        server.check_log_clean()
