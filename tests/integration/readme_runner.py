"""Runs the README's command blocks against the embedded default, inside
the private network and mount namespaces test_readme.py starts it in
(`unshare --net --mount`): only a loopback interface, 192.0.2.53 on it,
/etc/resolv.conf replaced by one naming 127.0.0.1, and nsd answering for
example.org on both. Nothing can leave the machine.

    readme_runner.py PETREL BLOCKS.json  ->  results as JSON on stdout
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from dnsserver import Nsd  # noqa: E402

EXAMPLE_ORG = """$TTL 300
@       IN SOA  ns1.example.org. hostmaster.example.org. 1 3600 600 86400 300
@       IN NS   ns1.example.org.
@       IN A    192.0.2.10
@       IN MX   10 mail.example.org.
@       IN TXT  "v=spf1 mx -all"
ns1     IN A    192.0.2.53
mail    IN A    192.0.2.25
"""

# Commands that only look: a block made of these alone may be tried again
# for a few seconds (a delivery lands a moment after swaks returns).
READ_ONLY = {"ls", "petrel", "curl", "cat"}


def network():
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", "192.0.2.53/32", "dev", "lo"], check=True)
    resolv = tempfile.NamedTemporaryFile("w", suffix=".resolv.conf", delete=False)
    resolv.write("nameserver 127.0.0.1\n")
    resolv.close()
    os.chmod(resolv.name, 0o644)
    subprocess.run(["mount", "--bind", resolv.name, "/etc/resolv.conf"], check=True)
    return [Nsd(zones=(), zone_texts={"example.org": EXAMPLE_ORG}, address=a, port=53)
            for a in ("127.0.0.1", "192.0.2.53")]


def wait_started(work, log, process):
    deadline = time.time() + 30
    control = os.path.join(work, "var", "spool", "control.sock")
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError("petrel serve exited:\n" + open(log).read())
        try:
            with socket.create_connection(("127.0.0.1", 2525), 1) as s:
                if s.recv(4).startswith(b"220") and os.path.exists(control):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("petrel serve did not start:\n" + open(log).read())


def read_only(block):
    words = [line.split()[0] for line in block.splitlines()
             if line.strip() and not line.startswith(" ")]
    return all(w in READ_ONLY for w in words) and not any(
        line.split()[:2] in (["petrel", "user"], ["petrel", "alias"], ["petrel", "domain"],
                             ["petrel", "stop"], ["petrel", "reload"])
        for line in block.splitlines() if line.strip())


def main():
    petrel, blocks_file = sys.argv[1], sys.argv[2]
    with open(blocks_file) as f:
        blocks = json.load(f)
    servers = network()
    work = tempfile.mkdtemp(prefix="petrel-readme-")
    os.chmod(work, 0o755)
    bin_dir = os.path.join(work, "bin")  # as `make install` would leave it
    os.mkdir(bin_dir)
    os.symlink(os.path.abspath(petrel), os.path.join(bin_dir, "petrel"))
    env = dict(os.environ, PATH=bin_dir + ":" + os.environ["PATH"])
    env.pop("PETREL_HOME", None)
    log = os.path.join(work, "serve.log")
    serve = subprocess.Popen(["petrel", "serve"], cwd=work, env=env,
                             stdout=open(log, "w"), stderr=subprocess.STDOUT)
    results = []
    try:
        wait_started(work, log, serve)
        for block in blocks:
            deadline = time.time() + (10 if read_only(block) else 0)
            while True:
                r = subprocess.run(["sh", "-e", "-c", block], cwd=work, env=env,
                                   capture_output=True, text=True, timeout=60)
                if r.returncode == 0 or time.time() >= deadline:
                    break
                time.sleep(0.2)
            results.append({"block": block, "status": r.returncode, "stdout": r.stdout,
                            "stderr": r.stderr})
    finally:
        stop = subprocess.run(["petrel", "stop"], cwd=work, env=env, capture_output=True,
                              text=True, timeout=120)
        if serve.poll() is None:
            serve.kill()
        serve.wait()
        for s in servers:
            s.stop()
        with open(log) as f:
            serve_log = f.read()
        shutil.rmtree(work, ignore_errors=True)
    json.dump({"results": results, "stop": stop.returncode, "log": serve_log}, sys.stdout)


if __name__ == "__main__":
    main()
