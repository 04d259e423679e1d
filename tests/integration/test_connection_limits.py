"""Connection limits as a service sees them (issue 10, services): the
per-IP count is exact across worker processes, not N times the limit; a
listener may have limits of its own; a worker killed while it holds
connections does not leave its clients counted for ever."""
import os
import re
import signal
import time

from conftest import SLOW, connect_from, read_line, wait_for, worker_pids

REFUSED = b"421 4.7.0 Too many connections from your address\r\n"


def greetings(server, port, source, count):
    """Opens count connections from source; returns (accepted, refused) as
    lists of sockets, reading each one's first line."""
    accepted, refused = [], []
    for _ in range(count):
        s = connect_from(source, port)
        line = read_line(s)
        if line.startswith(b"220 "):
            accepted.append(s)
        else:
            assert line == REFUSED, line
            refused.append(s)
    return accepted, refused


def close_all(*lists):
    for sockets in lists:
        for s in sockets:
            s.close()


def signal_all(pids, signum):
    for pid in pids:
        os.kill(pid, signum)


def test_per_ip_limit_is_exact_across_workers(make_petrel):
    # With four workers each counting alone, twelve connections from one
    # address got up to twelve greetings against a limit of three.
    server = make_petrel(extra_yaml="workers: 4\n",
                         listener_limits={"plain": {"connections_per_ip": 3}})
    wait_for(lambda: len(worker_pids(server)) == 4)
    workers = worker_pids(server)
    # Which worker accepts is the kernel's choice, and one busy worker may
    # take them all: stopping workers makes the split certain. The first two
    # connections go to the first worker, the other ten to the rest.
    try:
        signal_all(workers[1:], signal.SIGSTOP)
        accepted, refused = greetings(server, server.plain_port, "127.0.3.1", 2)
        signal_all(workers[1:], signal.SIGCONT)
        signal_all(workers[:1], signal.SIGSTOP)
        more, refused = greetings(server, server.plain_port, "127.0.3.1", 10)
        accepted += more
    finally:
        signal_all(workers, signal.SIGCONT)
    try:
        assert len(accepted) == 3 and len(refused) == 9
        log = server.read_log()
        serving = re.findall(r"proc=worker pid=(\d+) level=info event=connect "
                             r"session=\S+ client=127\.0\.3\.1", log)
        assert serving[:2] == [str(workers[0])] * 2, serving
        assert str(workers[0]) not in serving[2:], serving
        # another address is not affected
        others, none = greetings(server, server.plain_port, "127.0.3.2", 3)
        assert len(others) == 3 and not none
        close_all(others)
        # closing one frees one slot, on whichever worker
        accepted.pop().close()
        deadline = time.time() + 5 * SLOW
        while True:
            again, refused_again = greetings(server, server.plain_port, "127.0.3.1", 1)
            close_all(refused_again)
            if again or time.time() > deadline:
                break
            time.sleep(0.1)
        assert len(again) == 1
        close_all(again)
    finally:
        close_all(accepted, refused)


def test_listener_limits(make_petrel):
    server = make_petrel(limits={"connections_per_ip": 4},
                         listener_limits={"submission": {"connections_per_ip": 1,
                                                         "message_size": 4096}})
    sub, sub_refused = greetings(server, server.submission_port, "127.0.4.1", 2)
    plain, plain_refused = greetings(server, server.plain_port, "127.0.4.1", 5)
    try:
        # each listener counts apart, with its own limit
        assert (len(sub), len(sub_refused)) == (1, 1)
        assert (len(plain), len(plain_refused)) == (4, 1)
        # and its own SIZE
        s = sub[0]
        s.sendall(b"EHLO client.test\r\n")
        reply = b""
        while not re.search(rb"^250 ", reply, re.M):
            reply += s.recv(4096)
        assert b"250-SIZE 4096\r\n" in reply
        p = plain[0]
        p.sendall(b"EHLO client.test\r\n")
        reply = b""
        while not re.search(rb"^250 ", reply, re.M):
            reply += p.recv(4096)
        assert b"250-SIZE 52428800\r\n" in reply
    finally:
        close_all(sub, sub_refused, plain, plain_refused)


def test_killed_worker_gives_its_counts_back(make_petrel):
    server = make_petrel(extra_yaml="workers: 2\n",
                         listener_limits={"plain": {"connections_per_ip": 2}})
    wait_for(lambda: len(worker_pids(server)) == 2)
    held, refused = greetings(server, server.plain_port, "127.0.5.1", 3)
    assert len(held) == 2 and len(refused) == 1
    close_all(refused)
    old = worker_pids(server)
    for pid in old:
        os.kill(pid, signal.SIGKILL)
    for s in held:  # their sessions died with the workers
        assert s.recv(1) in (b"",)
    close_all(held)
    wait_for(lambda: len([p for p in worker_pids(server) if p not in old]) == 2,
             timeout=20)
    assert "event=ip-counts-returned" in server.read_log()
    again, refused = greetings(server, server.plain_port, "127.0.5.1", 3)
    try:
        assert len(again) == 2 and len(refused) == 1
    finally:
        close_all(again, refused)
