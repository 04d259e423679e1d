"""A local authoritative DNS server (nsd) serving tests/integration/zones
on a free loopback port, for resolver tests. Never the machine's resolver,
never the Internet."""

import os
import shutil
import socket
import subprocess
import tempfile
import time

ZONES = os.path.join(os.path.dirname(__file__), "zones")


def free_udp_tcp_port():
    while True:
        with socket.socket() as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                try:
                    u.bind(("127.0.0.1", port))
                    return port
                except OSError:
                    continue


class Nsd:
    def __init__(self, zones=("example.test",), zone_texts=None, address="127.0.0.1",
                 port=None):
        """zones: files from tests/integration/zones; zone_texts: {name: text}
        written for this server only; port 53 (a resolv.conf server) needs
        root."""
        self.dir = tempfile.mkdtemp(prefix="petrel-nsd-")
        os.chmod(self.dir, 0o755)
        self.address = address
        self.port = port or free_udp_tcp_port()
        conf = ["server:",
                "  ip-address: %s@%d" % (address, self.port),
                "  port: %d" % self.port,
                '  username: ""', '  chroot: ""',
                "  pidfile: %s/nsd.pid" % self.dir,
                "  zonelistfile: %s/zone.list" % self.dir,
                "  xfrdfile: %s/xfrd.state" % self.dir,
                "  xfrdir: %s" % self.dir,
                '  database: ""',
                "  logfile: %s/nsd.log" % self.dir,
                "  server-count: 1",
                "remote-control:", "  control-enable: no"]
        files = {zone: os.path.join(ZONES, zone + ".zone") for zone in zones}
        for zone, text in (zone_texts or {}).items():
            files[zone] = os.path.join(self.dir, zone + ".zone")
            with open(files[zone], "w") as f:
                f.write(text)
        for zone, path in files.items():
            conf += ["zone:", "  name: %s" % zone, "  zonefile: %s" % path]
        self.probe = next(iter(files))
        self.conf = os.path.join(self.dir, "nsd.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")
        self.process = subprocess.Popen(["nsd", "-d", "-c", self.conf],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self.server = "%s:%d" % (address, self.port)
        self._wait()

    def _wait(self):
        deadline = time.time() + 10
        while time.time() < deadline:
            out = subprocess.run(["dig", "+short", "+time=1", "+tries=1", "@" + self.address,
                                  "-p", str(self.port), self.probe, "SOA"],
                                 capture_output=True, text=True)
            if out.stdout.strip():
                return
            time.sleep(0.1)
        raise RuntimeError("nsd did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)
