"""The auth process (issue 10): the user database and every password
check live in one process; workers and the queue ask it over a local
socket. Started as root, the database is root's and the unprivileged
processes cannot open it; malformed requests close their connection and
the auth process serves on; a killed auth process is restarted and the
clients bridge the gap; a reload replaces it."""
import os
import re
import signal
import socket
import struct
import subprocess
import time

import pytest

from conftest import SLOW, wait_for
from test_auth import plain, starttls


def login(server, user="alice@example.test", password="secret"):
    c = starttls(server.submission_port)
    reply = c.cmd("AUTH PLAIN " + plain(user, password))[-1]
    c.sock.close()
    return reply


def auth_pids(server):
    pids = [int(p) for p in re.findall(r"event=spawned kind=auth child=(\d+)",
                                       server.read_log())]
    return [p for p in pids if os.path.exists("/proc/%d" % p)]


def the_auth_pid(server):
    """The port answers once the master has bound it, which may be before
    it has logged spawning the auth process."""
    wait_for(lambda: len(auth_pids(server)) == 1)
    return auth_pids(server)[0]


@pytest.mark.skipif(os.geteuid() != 0, reason="separation needs root")
def test_the_unprivileged_account_cannot_open_the_database(make_petrel):
    server = make_petrel()
    db_dir = os.path.join(server.home, "db")
    st = os.stat(db_dir)
    assert (st.st_uid, st.st_mode & 0o777) == (0, 0o700)
    for name in os.listdir(db_dir):
        assert os.stat(os.path.join(db_dir, name)).st_uid == 0, name
    # as the account the workers and the queue run as
    out = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                          "cat", os.path.join(db_dir, "users.sqlite")],
                         capture_output=True, timeout=30)
    assert out.returncode != 0 and b"Permission denied" in out.stderr
    # the socket's directory is root's: no worker can put another in its place
    run = os.stat(os.path.join(server.home, "run"))
    assert (run.st_uid, run.st_mode & 0o777) == (0, 0o755)
    assert login(server).startswith("235")


def auth_socket(server):
    """A connection to the auth process's socket (which it may still be
    binding just after the start)."""
    path = os.path.join(server.home, "run", "auth.sock")
    wait_for(lambda: os.path.exists(path))
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10 * SLOW)
    s.connect(path)
    return s


def frame(kind, payload):
    return struct.pack(">IB", 5 + len(payload), kind) + payload


BAD_REQUESTS = [
    b"\x00\x00\x00\x03x",                        # a length below the header
    b"\x7f\xff\xff\xff\x01",                      # a length over the maximum
    frame(99, b""),                               # an unknown type
    frame(1, struct.pack(">I", 40) + b"short"),   # a string cut short
    frame(1, struct.pack(">I", 3) + b"a\x00b"),   # a NUL inside a name
    frame(1, struct.pack(">I", 1) + b"ab"),       # octets left over
    frame(5, struct.pack(">QI", 7, 9)),           # SASL flags out of range
]


@pytest.mark.parametrize("request_bytes", BAD_REQUESTS)
def test_malformed_requests_close_the_connection(make_petrel, request_bytes):
    server = make_petrel()
    s = auth_socket(server)
    s.sendall(request_bytes)
    assert s.recv(100) == b""  # closed, no answer
    s.close()
    wait_for(lambda: "event=auth-bad-request" in server.read_log())
    # and it serves on
    assert login(server).startswith("235")


def ask_local_rcpt(s, address):
    s.sendall(frame(1, struct.pack(">I", len(address)) + address))
    return s.recv(200)


def text(value):
    return struct.pack(">I", len(value)) + value


def test_a_good_request_by_hand(make_petrel):
    server = make_petrel()
    s = auth_socket(server)
    # local, and whose mailbox (a +tag goes to the user), with its quota
    assert server.cli("user", "quota", "alice@example.test", "10M").returncode == 0
    assert ask_local_rcpt(s, b"Alice+news@example.test") == frame(
        1, struct.pack(">i", 1) + text(b"") + text(b"alice@example.test")
        + struct.pack(">Q", 10 * 1024 * 1024))
    # local, no such user
    assert ask_local_rcpt(s, b"nobody@example.test") == frame(
        1, struct.pack(">i", 1) + text(b"") + text(b"") + struct.pack(">Q", 0))
    # not ours
    assert ask_local_rcpt(s, b"bob@elsewhere.test") == frame(
        1, struct.pack(">i", 0) + text(b"") + text(b"") + struct.pack(">Q", 0))
    s.close()


def test_killed_auth_process_is_replaced(make_petrel):
    server = make_petrel()
    pid = the_auth_pid(server)
    os.kill(pid, signal.SIGKILL)
    # the clients wait for the new one (a few seconds at most)
    assert login(server).startswith("235")
    wait_for(lambda: len(auth_pids(server)) == 1 and auth_pids(server) != [pid])
    assert "event=child-exit kind=auth child=%d" % pid in server.read_log()


def test_reload_replaces_the_auth_process(make_petrel):
    server = make_petrel()
    old = the_auth_pid(server)
    server.process.send_signal(signal.SIGHUP)
    wait_for(lambda: auth_pids(server) and auth_pids(server) != [old], timeout=20)
    # the old one left the new one's socket in place
    assert login(server).startswith("235")
    assert os.path.exists(os.path.join(server.home, "run", "auth.sock"))
