"""petrel check-config: every mistake that would stop `serve` is caught
here first, named with file:line:column or the file at fault, and a good
configuration ends with an explicit OK line (issue 10, config from tables).
"""
import os
import pathlib
import shutil
import subprocess

import pytest

from conftest import PETREL, SLOW, make_home


@pytest.fixture
def tmp_path():
    """A directory the unprivileged account can enter (pytest's are 0700)."""
    path = make_home()
    yield pathlib.Path(path)
    shutil.rmtree(path, ignore_errors=True)


def check(tmp_path, text, *extra):
    path = tmp_path / "petrel.yaml"
    path.write_text(text)
    return subprocess.run([PETREL, "-c", str(path), "--home", str(tmp_path / "home"),
                           "check-config"] + list(extra),
                          capture_output=True, text=True, timeout=20 * SLOW)


def error_of(out):
    assert out.returncode == 1, (out.stdout, out.stderr)
    assert "# OK" not in out.stdout
    return out.stderr.strip()


def test_good_file_ends_with_ok(tmp_path):
    out = check(tmp_path, "domains: [example.test]\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "# OK: %s is valid" % (tmp_path / "petrel.yaml")


def test_lmtp_on_loopback_is_valid(tmp_path):
    out = check(tmp_path, "listen:\n  - {protocol: lmtp, address: \"127.0.0.1:2424\"}\n"
                "  - {protocol: lmtp, address: \"[::1]:2424\"}\n")
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("text, expected", [
    # YAML syntax: the file's own name and the position, never libfyaml's
    # "<memory-@0x55db3b6e0e20-0x55db3b6e1058>"
    ("hostname: x\nlog:\n  level: [\n", ":4:1: invalid YAML: flow sequence without a closing bracket"),
    ("hostname: \"x\n", ":1:12: invalid YAML: double-quoted scalar without closing quote"),
    # an empty file, or one with only comments ("fy_parse_load_document() failed")
    ("", ":1:1: the file holds no settings (it is empty or only comments)"),
    ("# all commented out\n#domains: [x.test]\n", ":1:1: the file holds no settings"),
    # a value of the wrong shape, with its line
    ("domains: [a.test]\nlog: debug\n", ":2:6: expected a mapping for log"),
    ("listen: 5\n", ":1:9: expected a list for listen"),
    # near misses
    ("domain: [a.test]\n", ":1:1: unknown key 'domain' in the configuration; did you mean 'domains'?"),
    ("limits:\n  conections_per_ip: 3\n", ":2:3: unknown key 'conections_per_ip' in limits; did you mean 'connections_per_ip'?"),
    ("delivery: {tls: mandatory}\n", ":1:17: expected none|may|encrypt"),
    # two listeners on one address
    ("listen:\n  - {protocol: smtp, address: \"127.0.0.1:2525\"}\n"
     "  - {protocol: submission, address: \"127.0.0.1:2525\"}\n",
     ":3:6: two listeners on 127.0.0.1:2525: each address once"),
    # LMTP takes mail from whoever connects: loopback or a unix socket only
    ("listen:\n  - {protocol: lmtp, address: \"0.0.0.0:24\"}\n",
     ":2:6: lmtp delivers for anyone who connects: give it a loopback address or a unix "
     "socket"),
    ("listen:\n  - {protocol: lmtp, address: \"[::]:24\"}\n", ":2:6: lmtp delivers"),
    # client certificates cannot be checked without the CA that signs them
    ("listen:\n  - {protocol: imap, address: \"127.0.0.1:1993\", tls: implicit,"
     " client_certificates: optional}\n",
     ":2:6: client_certificates needs tls.client_ca (the CA bundle that signs them)"),
])
def test_file_errors(tmp_path, text, expected):
    message = error_of(check(tmp_path, text))
    assert message == "petrel: %s%s" % (tmp_path / "petrel.yaml", expected) or \
        message.startswith("petrel: %s%s" % (tmp_path / "petrel.yaml", expected)), message


def make_cert(tmp_path, name):
    key, cert = tmp_path / (name + ".key"), tmp_path / (name + ".pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=" + name,
                    "-days", "2"], check=True, capture_output=True, timeout=60 * SLOW)
    return key, cert


def test_key_that_does_not_match_the_certificate(tmp_path):
    # It passed check-config, then `serve` died with
    # "error:0A0000B1:SSL routines::no certificate assigned".
    key_a, cert_a = make_cert(tmp_path, "a")
    key_b, _ = make_cert(tmp_path, "b")
    message = error_of(check(tmp_path, "tls: {certificate: %s, key: %s}\n" % (cert_a, key_b)))
    assert message.endswith("the key %s does not match the certificate %s" % (key_b, cert_a))
    out = check(tmp_path, "tls: {certificate: %s, key: %s}\n" % (cert_a, key_a))
    assert out.returncode == 0, out.stderr


def test_unreadable_certificate(tmp_path):
    message = error_of(check(tmp_path, "tls: {certificate: %s/none.pem}\n" % tmp_path))
    assert "%s/none.pem" % tmp_path in message


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run as another account")
def test_state_directory_the_account_cannot_reach(tmp_path):
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    path = tmp_path / "petrel.yaml"
    path.write_text("domains: [example.test]\nhome: %s/home\n" % closed)
    out = subprocess.run([PETREL, "-c", str(path), "check-config"], capture_output=True,
                         text=True, timeout=20 * SLOW)
    message = error_of(out)
    assert ("the state directory %s/home is not usable by user nobody" % closed) in message
    assert "%s: Permission denied" % closed in message
    # and check-config never creates it
    assert not os.path.exists(closed / "home")


def test_unknown_account(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("the account is only used when started as root")
    message = error_of(check(tmp_path, "user: no-such-account-here\n"))
    assert "user 'no-such-account-here' does not exist" in message
