"""Shared pieces of petrel's benchmarks: ports, CPU accounting, and the
two servers under test, each a private instance in a scratch directory
(Postfix with its own queue and main.cf; petrel with its own home)."""

import os
import re
import signal
import socket
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PETREL = os.environ.get("PETREL_BIN", os.path.join(ROOT, "build", "petrel"))
NOBODY = 65534


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=20, address="127.0.0.1"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection((address, port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listens on %s:%d" % (address, port))


def cpu_ticks():
    """Busy jiffies of the whole machine."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle


def ticks_to_ms(ticks):
    return ticks * 1000.0 / os.sysconf("SC_CLK_TCK")


def postfix_version():
    return subprocess.run(["postconf", "-d", "-h", "mail_version"],
                          capture_output=True, text=True).stdout.strip()


class Postfix:
    """A private Postfix: its own queue, data directory and log file,
    smtpd on a free loopback port, and `main` appended to main.cf."""
    name = "postfix"

    def __init__(self, base, main, smtpd_options=""):
        self.base = os.path.join(base, "postfix")
        self.conf = os.path.join(self.base, "conf")
        self.port = free_port()
        self.log_path = os.path.join(self.base, "maillog")
        os.makedirs(self.conf)
        os.makedirs(os.path.join(self.base, "queue"))
        os.makedirs(os.path.join(self.base, "data"))
        subprocess.run(["chown", "postfix", os.path.join(self.base, "data")], check=True)
        common = """
compatibility_level = 3.6
queue_directory = {b}/queue
data_directory = {b}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = bench.example.test
mydomain = example.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
message_size_limit = 52428800
default_process_limit = 200
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
alias_maps =
alias_database =
local_recipient_maps =
biff = no
maillog_file = {log}
maillog_file_prefixes = {b}
""".format(b=self.base, log=self.log_path)
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write(common + main.format(b=self.base))
        with open("/etc/postfix/master.cf") as f:
            master = f.read().splitlines()
        out = []
        for line in master:
            if line.startswith("smtp      inet"):
                line = "127.0.0.1:%d inet n - n - - smtpd %s" % (self.port,
                                                                 smtpd_options)
            out.append(line)
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write("\n".join(out) + "\n")

    def start(self):
        subprocess.run(["postfix", "-c", self.conf, "start"], check=True,
                       capture_output=True)
        wait_port(self.port)

    def stop(self):
        subprocess.run(["postfix", "-c", self.conf, "stop"], capture_output=True)


class Petrel:
    """A private petrel: its own home, smtp on a free loopback port, and
    `yaml` appended to its configuration."""
    name = "petrel"

    def __init__(self, base, yaml, binary=None, name=None):
        """binary and name: another build of petrel (a baseline to compare
        with), run from its own home beside this one."""
        self.binary = binary or PETREL
        self.name = name or self.name
        self.home = os.path.join(base, self.name)
        os.makedirs(self.home)
        os.chmod(self.home, 0o755)
        self.port = free_port()
        self.config = os.path.join(self.home, "petrel.yaml")
        self.log_path = os.path.join(self.home, "petrel.log")
        with open(self.config, "w") as f:
            f.write("hostname: bench.example.test\nhome: %s\n"
                    "listen: [{protocol: smtp, address: \"127.0.0.1:%d\", tls: none}]\n"
                    "limits: {connections_per_ip: 1000}\n%s" % (self.home, self.port, yaml))
            if not re.search(r"^dns:", yaml, re.M):
                # The benchmarks route without DNS; never the machine's
                # resolver (petrel's default) nor the Internet.
                f.write('dns: {servers: ["127.0.0.1:9"]}\n')
        self.process = None

    def start(self):
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen([self.binary, "-c", self.config, "serve"],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        wait_port(self.port)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        self.log.close()


class LogCounter:
    """Counts lines containing a text in a growing log file, reading only
    what was appended since the last call."""

    def __init__(self, path, text):
        self.path, self.text = path, text.encode()
        self.offset, self.count, self.partial = 0, 0, b""

    def __call__(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return 0
        self.offset += len(data)
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        self.count += sum(1 for line in lines if self.text in line)
        return self.count
