"""`petrel queue` against the running daemon, through its control socket."""

import os
import re
import subprocess
import time

from conftest import PETREL, SLOW
from peers import Sink, parse_dsn
from test_delivery import delivery_lines, dns, net, send, wait_for  # noqa: F401


def queue(server, *args):
    # The queue process opens its socket a moment after the SMTP ports.
    sock = os.path.join(server.home, "spool", "control.sock")
    wait_for(lambda: os.path.exists(sock), timeout=10)
    out = subprocess.run([PETREL, "-c", server.config_path, "queue"] + list(args),
                         capture_output=True, text=True, timeout=30)
    return out.returncode, out.stdout, out.stderr


def queued_ids(server):
    code, out, _ = queue(server, "list")
    assert code == 0
    return re.findall(r"^([0-9A-Z]{16})\s", out, re.M)


def deferred_server(net):
    """A sender whose remote recipient is refused temporarily, with
    retries an hour apart: messages stay in the queue."""
    port, sender, _ = net
    sink = Sink("127.0.0.4", port, ["-r", "rcpt"])
    mx1 = sender(extra="queue: {retry: [1h]}\n")
    return port, sink, mx1


def test_list_show_retry(net):
    port, sink, mx1 = deferred_server(net)
    try:
        send(mx1, ["later@sink.mail.test"])
        assert wait_for(lambda: delivery_lines(mx1, "later@sink.mail.test"))
        ids = queued_ids(mx1)
        assert len(ids) == 1
        code, out, _ = queue(mx1, "list")
        assert "<alice@example.test>" in out and "<later@sink.mail.test>  deferred" in out
        assert "-- 1 message in the queue" in out
        code, out, _ = queue(mx1, "show", ids[0])
        assert code == 0
        assert "attempts: 1" in out and "next attempt:" in out
        assert "4.3.0" in out or "smtp; 4" in out, out
        # The remote is fixed; retry delivers now rather than in an hour.
        sink.cleanup()
        sink = Sink("127.0.0.4", port)
        code, out, _ = queue(mx1, "retry", ids[0])
        assert code == 0 and "scheduled" in out
        assert wait_for(lambda: sink.messages())
        assert wait_for(lambda: queued_ids(mx1) == [])
        code, out, _ = queue(mx1, "list")
        assert "-- 0 messages in the queue" in out
    finally:
        sink.cleanup()


def test_hold_release_delete_bounce(net):
    port, sink, mx1 = deferred_server(net)
    try:
        for i in range(3):
            send(mx1, ["m%d@sink.mail.test" % i])
        assert wait_for(lambda: all(delivery_lines(mx1, "m%d@sink.mail.test" % i)
                                    for i in range(3)))
        ids = queued_ids(mx1)
        assert len(ids) == 3
        held, deleted, bounced = ids

        assert queue(mx1, "hold", held)[0] == 0
        assert "(held)" in queue(mx1, "show", held)[1]
        attempts = len(delivery_lines(mx1, "m0@sink.mail.test"))
        assert queue(mx1, "retry")[0] == 0  # every deferred one, not the held
        time.sleep(1 * SLOW)
        assert len(delivery_lines(mx1, "m0@sink.mail.test")) == attempts
        assert queue(mx1, "release", held)[0] == 0
        assert wait_for(lambda: len(delivery_lines(mx1, "m0@sink.mail.test")) > attempts)

        assert queue(mx1, "delete", deleted)[0] == 0
        assert deleted not in queued_ids(mx1)
        assert "event=deleted id=%s" % deleted in mx1.read_log()

        assert queue(mx1, "bounce", bounced)[0] == 0
        bounces = mx1.wait_messages("alice@example.test", 1, timeout=15)
        assert len(bounces) == 1
        _, _, per_rcpt = parse_dsn(bounces[0])
        assert per_rcpt[0]["Status"] == "5.0.0"
        assert "returned to the sender by the postmaster" in per_rcpt[0]["Diagnostic-Code"]
        assert wait_for(lambda: queued_ids(mx1) == [held])
        assert len(mx1.messages("alice@example.test")) == 1  # none for the deleted one
    finally:
        sink.cleanup()


def test_bad_requests(net):
    port, sender, _ = net
    mx1 = sender()
    code, _, err = queue(mx1, "show", "../../etc/passwd")
    assert code == 1 and "is not a queue ID" in err
    code, _, err = queue(mx1, "show", "1K0YXEC2ZAB0040Y")
    assert code == 1 and "no message 1K0YXEC2ZAB0040Y" in err
    code, _, err = queue(mx1, "explode", "1K0YXEC2ZAB0040Y")
    assert code == 1 and "expected list" in err
    code, _, err = queue(mx1, "hold")
    assert code == 1 and "needs a queue ID" in err
    mx1.stop()
    assert not os.path.exists(os.path.join(mx1.home, "spool", "control.sock"))
    code, _, err = queue(mx1, "list")
    assert code == 2 and "is petrel running?" in err
    mx1.start()
