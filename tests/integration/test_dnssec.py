"""DNSSEC validation with dns.trust_anchor: a zone signed by the test
(ldns-keygen, ldns-signzone) and served by nsd validates as secure, the
flag reaches `petrel dns lookup --json`; the same zone with one record
altered after signing is BOGUS (102); without a trust anchor nothing is
called secure."""

import glob
import json
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import PETREL
from dnsserver import Nsd

ZONE = """$ORIGIN signed.test.
$TTL 300
@   IN SOA ns.signed.test. hostmaster.signed.test. 1 3600 600 86400 60
@   IN NS ns
ns  IN A 127.0.0.1
www IN A 192.0.2.10
"""


@pytest.fixture(scope="module")
def signed():
    work = tempfile.mkdtemp(prefix="petrel-dnssec-")
    with open(os.path.join(work, "signed.test.zone"), "w") as f:
        f.write(ZONE)

    def run(*args):
        return subprocess.run(list(args), cwd=work, check=True, capture_output=True,
                              text=True).stdout.strip()
    ksk = run("ldns-keygen", "-a", "ECDSAP256SHA256", "-k", "signed.test")
    zsk = run("ldns-keygen", "-a", "ECDSAP256SHA256", "signed.test")
    run("ldns-signzone", "signed.test.zone", ksk, zsk)
    with open(os.path.join(work, "signed.test.zone.signed")) as f:
        text = f.read()
    anchor = glob.glob(os.path.join(work, "*.ds"))[0]
    yield text, anchor, work
    shutil.rmtree(work, ignore_errors=True)


def lookup(work, server, anchor):
    config = os.path.join(work, "petrel.yaml")
    with open(config, "w") as f:
        f.write('dns: {servers: ["%s"], timeout_ms: 5000%s}\n' % (
            server.server, ", trust_anchor: %s" % anchor if anchor else ""))
    out = subprocess.run([PETREL, "-c", config, "dns", "lookup", "www.signed.test", "A",
                          "--json"], capture_output=True, text=True, timeout=30)
    return out.returncode, json.loads(out.stdout)


def test_signed_zone_is_secure(signed):
    text, anchor, work = signed
    server = Nsd(zones=(), zone_texts={"signed.test": text})
    try:
        code, doc = lookup(work, server, anchor)
        assert code == 0 and doc["status"] == "NOERROR" and doc["secure"] is True
        assert [a["data"] for a in doc["answers"] if a["type"] == "A"] == ["192.0.2.10"]
        code, doc = lookup(work, server, None)
        assert code == 0 and doc["secure"] is False
    finally:
        server.stop()


def test_altered_record_is_bogus(signed):
    text, anchor, work = signed
    assert "192.0.2.10" in text
    server = Nsd(zones=(), zone_texts={"signed.test": text.replace("192.0.2.10",
                                                                   "192.0.2.66")})
    try:
        code, doc = lookup(work, server, anchor)
        assert code == 102 and doc["status"] == "BOGUS" and doc["secure"] is False
        assert "validation failure" in doc["why_bogus"]
    finally:
        server.stop()
