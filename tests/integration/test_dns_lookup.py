"""`petrel dns lookup`: BIND presentation format for every record type,
compared with dig against the same local server; stable error codes in
the text, the JSON and the exit status."""

import json
import os
import re
import socket
import subprocess
import time

import pytest

from conftest import PETREL, Petrel, make_home
from dnsserver import Nsd

TYPES = [
    ("example.test", "A"), ("example.test", "AAAA"), ("example.test", "MX"),
    ("example.test", "TXT"), ("txt2.example.test", "TXT"), ("spf.example.test", "SPF"),
    ("www.example.test", "CNAME"), ("dname.example.test", "DNAME"),
    ("example.test", "NS"), ("example.test", "SOA"),
    ("4.3.2.1.in-addr.example.test", "PTR"), ("_smtp._tcp.example.test", "SRV"),
    ("naptr.example.test", "NAPTR"), ("_25._tcp.mx1.example.test", "TLSA"),
    ("ssh.example.test", "SSHFP"), ("example.test", "CAA"), ("uri.example.test", "URI"),
    ("ds.example.test", "DS"), ("key.example.test", "DNSKEY"),
    ("sig.example.test", "RRSIG"), ("nsec.example.test", "NSEC"),
    ("cds.example.test", "CDS"), ("cdnskey.example.test", "CDNSKEY"),
    ("ta.example.test", "TA"), ("talink.example.test", "TALINK"),
    ("hinfo.example.test", "HINFO"), ("svc.example.test", "SVCB"),
    ("example.test", "HTTPS"), ("nullmx.example.test", "MX"),
]


@pytest.fixture(scope="module")
def nsd():
    server = Nsd()
    yield server
    server.stop()


def lookup(*args):
    return subprocess.run([PETREL, "dns", "lookup"] + list(args), capture_output=True,
                          text=True, timeout=60)


def normalize(text):
    """One RR a line, runs of blanks folded (dig aligns with tabs)."""
    return sorted(re.sub(r"\s+", " ", line).strip() for line in text.splitlines()
                  if line.strip())


@pytest.mark.parametrize("name,rrtype", TYPES, ids=["%s-%s" % t for t in TYPES])
def test_presentation_matches_dig(nsd, name, rrtype):
    dig_type = "TYPE32768" if rrtype == "TA" else rrtype
    dig = subprocess.run(["dig", "+nosplit", "+noall", "+answer", "@127.0.0.1", "-p",
                          str(nsd.port), name, dig_type], capture_output=True, text=True)
    expected = normalize(dig.stdout)
    assert expected, "dig found nothing for %s %s" % (name, rrtype)
    out = lookup(name, rrtype, "--server", nsd.server)
    assert out.returncode == 0, out.stderr
    assert normalize(out.stdout) == expected


def test_character_strings_quoted(nsd):
    out = lookup("example.test", "TXT", "--server", nsd.server).stdout
    assert '"v=spf1 -all" "second string"' in out
    out = lookup("example.test", "HTTPS", "--server", nsd.server).stdout
    assert 'alpn="h2"' in out


def test_json(nsd):
    out = lookup("example.test", "MX", "--server", nsd.server, "--json")
    assert out.returncode == 0
    doc = json.loads(out.stdout)
    assert doc["status"] == "NOERROR" and doc["code"] == 0
    assert doc["query"] == {"name": "example.test", "type": "MX"}
    assert sorted(a["data"] for a in doc["answers"]) == ["10 mx1.example.test.",
                                                          "20 mx2.example.test."]
    assert all(a["ttl"] == 300 and a["class"] == "IN" and a["type"] == "MX"
               for a in doc["answers"])


@pytest.mark.parametrize("args,code,name", [
    (("nope.example.test", "A"), 3, "NXDOMAIN"),
    (("example.test", "SRV"), 100, "NODATA"),
    (("example.test", "NOSUCHTYPE"), 104, "BADTYPE"),
    (("bad..name.example.test", "A"), 103, "BADNAME"),
])
def test_error_codes(nsd, args, code, name):
    out = lookup(*args, "--server", nsd.server)
    assert out.returncode == code, out.stderr
    assert "%s (%d)" % (name, code) in out.stderr
    if code not in (103, 104):
        doc = json.loads(lookup(*args, "--server", nsd.server, "--json").stdout)
        assert (doc["code"], doc["status"]) == (code, name)


def test_timeout_from_silent_server():
    """A server that never answers: TIMEOUT (101) within the deadline."""
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    port = silent.getsockname()[1]
    home = make_home()
    config = os.path.join(home, "petrel.yaml")
    with open(config, "w") as f:
        f.write('dns: {servers: ["127.0.0.1:%d"], timeout_ms: 700}\n' % port)
    try:
        out = subprocess.run([PETREL, "-c", config, "dns", "lookup", "example.test"],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 101, out.stderr
        # It says whom it asked.
        assert out.stderr == ("petrel: TIMEOUT (101): example.test (servers 127.0.0.1:%d)\n"
                              % port)
    finally:
        silent.close()


def test_nothing_listening_is_network_at_once():
    """A server address where nothing listens: NETWORK (105), naming it, at
    once rather than after the deadline."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    started = time.time()
    out = lookup("example.org", "--server", "127.0.0.1:%d" % port)
    assert out.returncode == 105, out.stderr
    assert out.stderr == ("petrel: NETWORK (105): example.org: Connection refused "
                          "(servers 127.0.0.1:%d)\n" % port)
    assert time.time() - started < 5


def test_server_that_is_not_an_address_is_a_usage_error():
    out = lookup("example.org", "--server", "notanip")
    assert out.returncode == 2
    assert out.stderr.startswith("petrel dns: --server 'notanip': expected \"IP\"")
    assert "usage: petrel dns lookup" in out.stderr


@pytest.fixture(scope="module")
def resolv_conf_nsd():
    """nsd on port 53 of a loopback address, as a resolv.conf server (which
    has no port) must be."""
    if os.geteuid() != 0:
        pytest.skip("binding port 53 needs root")
    server = Nsd(address="127.0.0.78", port=53)
    yield server
    server.stop()


def test_resolv_conf_is_the_default(resolv_conf_nsd, tmp_path):
    resolv = os.path.join(make_home(), "resolv.conf")  # the queue's account reads it
    with open(resolv, "w") as f:
        f.write("# written by a test\nsearch example.test\noptions ndots:1\n"
                "nameserver 127.0.0.78\n")
    config = tmp_path / "petrel.yaml"
    config.write_text("home: %s\ndns: {resolv_conf: %s}\n" % (tmp_path, resolv))
    out = subprocess.run([PETREL, "-c", str(config), "dns", "lookup", "example.test"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "example.test." in out.stdout and "\tA\t" in out.stdout
    shown = subprocess.run([PETREL, "-c", str(config), "check-config"],
                           capture_output=True, text=True, timeout=60).stdout
    assert "servers: []  # none: the name servers of resolv_conf" in shown
    assert 'resolv_conf: "%s"' % resolv in shown
    # The daemon says at start which servers it asks.
    p = Petrel(make_home(), extra_yaml="dns: {resolv_conf: %s}\n" % resolv).start()
    try:
        assert ('event=dns-resolver upstream="resolv.conf %s: 127.0.0.78" dnssec=off'
                % resolv) in p.wait_log("event=dns-resolver")
    finally:
        assert p.stop() == 0


def test_empty_resolv_conf_means_localhost(tmp_path):
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("search example.test\n")
    config = tmp_path / "petrel.yaml"
    config.write_text("home: %s\ndns: {resolv_conf: %s, timeout_ms: 500}\n"
                      % (tmp_path, resolv))
    out = subprocess.run([PETREL, "-c", str(config), "dns", "lookup", "example.org"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode in (101, 105), out.stderr
    assert ("(resolv.conf %s (no name server in it: the C library's default) 127.0.0.1)"
            % resolv) in out.stderr


def test_servers_and_recursion_together_is_a_config_error(tmp_path):
    config = tmp_path / "petrel.yaml"
    config.write_text('dns: {servers: ["127.0.0.1"], recursive: true}\n')
    out = subprocess.run([PETREL, "-c", str(config), "check-config"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 1
    assert "dns: servers or recursive: true, not both" in out.stderr
