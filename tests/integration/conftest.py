"""Integration test harness: starts the real `petrel serve` on free
loopback ports in a temporary home and gives tests a handle on it."""

import os
import re
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import shutil

import pytest
import pytest_timeout  # noqa: F401 (python3-pytest-timeout): every test has a deadline

PETREL = os.environ.get(
    "PETREL_BIN",
    os.path.join(os.path.dirname(__file__), "..", "..", "build", "petrel"))
SANITIZED = os.environ.get("PETREL_SANITIZED") == "1"
# Sanitized builds are several times slower: widen waits, not limits.
SLOW = 4 if SANITIZED else 1


# No test may hang: one that does fails after this long (scaled by SLOW)
# instead of eating CI's time. A test that needs longer says so with
# @pytest.mark.timeout(seconds).
TEST_TIMEOUT = 120


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(TEST_TIMEOUT * SLOW))


def free_ports(count):
    """Distinct free ports: all held open until all are picked, or the
    kernel may hand out the same one twice."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_for(predicate, timeout=15):
    """Polls predicate until it is true (or the time, scaled by SLOW, is up);
    returns its last value."""
    deadline = time.time() + timeout * SLOW
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    return predicate()


def make_home():
    """A home the unprivileged user (when run as root) can reach."""
    path = tempfile.mkdtemp(prefix="petrel-test-")
    os.chmod(path, 0o755)
    return path


class Petrel:
    def __init__(self, home, extra_yaml="", limits=None, users=None, domains=None,
                 relay_networks=None, hostname="mx.example.test", extra_listen=(),
                 auth=None, client_certificates=None, password="secret",
                 listener_limits=None, http=False, imap=False, pop3=False, lmtp=False):
        self.home = home
        # One call for all of this server's ports: separate calls can be
        # handed the same port twice. spare_port is for a listener a test
        # adds to the configuration itself.
        ports = free_ports(10)
        self.spare_port = ports[9]
        (self.smtp_port, self.submission_port, self.smtps_port,
         self.plain_port) = ports[0:4]
        self.config_path = os.path.join(home, "petrel.yaml")
        self.log_path = os.path.join(home, "petrel.log")
        self.process = None
        self.password = password
        domains = domains or ["example.test", "localhost"]
        users = users or ["test@example.test", "postmaster@example.test",
                          "alice@example.test", "bob@example.test"]
        lines = [
            "hostname: " + hostname,
            "home: " + home,
            "domains: [%s]" % ", ".join(domains),
            "users:",
        ]
        lines += ["  - {address: %s, password: %s}" % (u, password) for u in users]
        # client_certificates applies to submission, the implicit TLS port
        # and the IMAP and POP3 listeners.
        certs = (", client_certificates: %s" % client_certificates
                 if client_certificates else "")
        # listener_limits: {"smtp"|"submission"|"smtps"|"plain": {key: value}}
        own = {name: ", limits: {%s}" % ", ".join("%s: %s" % kv for kv in values.items())
               for name, values in (listener_limits or {}).items()}
        lines += [
            "listen:",
            '  - {protocol: smtp, address: "127.0.0.1:%d", tls: starttls%s}'
            % (self.smtp_port, own.get("smtp", "")),
            '  - {protocol: submission, address: "127.0.0.1:%d", tls: starttls%s%s}'
            % (self.submission_port, certs, own.get("submission", "")),
            '  - {protocol: smtp, address: "127.0.0.1:%d", tls: implicit%s%s}'
            % (self.smtps_port, certs, own.get("smtps", "")),
            '  - {protocol: smtp, address: "127.0.0.1:%d", tls: none%s}'
            % (self.plain_port, own.get("plain", "")),
        ]
        # http: an http listener (/metrics, /healthz) on self.http_port
        self.http_port = ports[4] if http else None
        if http:
            lines.append('  - {protocol: http, address: "127.0.0.1:%d"}' % self.http_port)
        # imap: IMAP with STARTTLS on self.imap_port, implicit TLS on
        # self.imaps_port
        self.imap_port = self.imaps_port = None
        if imap:
            self.imap_port, self.imaps_port = ports[5:7]
            lines.append('  - {protocol: imap, address: "127.0.0.1:%d", tls: starttls%s%s}'
                         % (self.imap_port, certs, own.get("imap", "")))
            lines.append('  - {protocol: imap, address: "127.0.0.1:%d", tls: implicit%s%s}'
                         % (self.imaps_port, certs, own.get("imaps", "")))
        # pop3: POP3 with STLS on self.pop3_port, implicit TLS on
        # self.pop3s_port
        self.pop3_port = self.pop3s_port = None
        if pop3:
            self.pop3_port, self.pop3s_port = ports[7:9]
            lines.append('  - {protocol: pop3, address: "127.0.0.1:%d", tls: starttls%s}'
                         % (self.pop3_port, certs))
            lines.append('  - {protocol: pop3, address: "127.0.0.1:%d", tls: implicit%s}'
                         % (self.pop3s_port, certs))
        # lmtp: LMTP on the unix socket self.lmtp_path
        self.lmtp_path = os.path.join(home, "run", "lmtp.sock") if lmtp else None
        if lmtp:
            lines.append('  - {protocol: lmtp, address: "unix:run/lmtp.sock"}')
        lines += ['  - {protocol: smtp, address: "%s", tls: starttls}' % a
                  for a in extra_listen]
        if relay_networks is not None:
            lines.append("relay_networks: [%s]" % ", ".join(relay_networks))
        if auth:
            lines.append("auth:")
            lines += ["  %s: %s" % (k, v) for k, v in auth.items()]
        if limits:
            lines.append("limits:")
            lines += ["  %s: %s" % (k, v) for k, v in limits.items()]
        if not re.search(r"^dns:", extra_yaml, re.M):
            # Never the machine's resolver (petrel's default, resolv.conf)
            # nor the Internet: a local address where nothing listens.
            lines.append('dns: {servers: ["127.0.0.1:9"]}')
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines) + "\n" + extra_yaml)

    def start(self, env=None):
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [PETREL, "-c", self.config_path, "serve"], env=env,
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 10 * SLOW
        greeted = False
        control = os.path.join(self.home, "spool", "control.sock")
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("petrel exited:\n" + self.read_log())
            # One greeting (tests count connections), and the queue's
            # control socket (petrel queue, stats), bound just after.
            greeted = greeted or self.greets()
            if greeted and os.path.exists(control):
                return self
            time.sleep(0.05)
        raise RuntimeError("petrel did not start:\n" + self.read_log())

    def greets(self):
        """True once a worker greets on the plain port. The port accepts as
        soon as the master has bound it, before it has forked anyone; a
        greeting means the auth process, the queue and a worker (forked in
        that order) are all there."""
        try:
            with socket.create_connection(("127.0.0.1", self.plain_port), 0.2) as s:
                s.settimeout(0.5 * SLOW)
                return s.recv(4).startswith(b"220")
        except OSError:
            return False

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout * SLOW)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
                raise AssertionError("petrel did not stop on %s; its log ends:\n%s"
                                     % (sig, self.read_log()[-6000:]))
        code = self.process.returncode
        if sig == signal.SIGKILL:
            # Children die with the master (PDEATHSIG); make sure.
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            time.sleep(0.2)
        self.process = None
        self.log.close()
        return code

    def cli(self, *args, input=None):
        """Runs `petrel -c <this config> ARGS`; returns the CompletedProcess."""
        return subprocess.run([PETREL, "-c", self.config_path] + list(args),
                              input=input, capture_output=True, text=True, timeout=60)

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def mailbox(self, address):
        local, domain = address.split("@")
        return os.path.join(self.home, "mail", domain, local)

    def imap(self, user="test@example.test", password=None, tls=True):
        """A logged-in imaplib client over STARTTLS (the certificate is the
        self-signed one: not verified)."""
        import imaplib
        client = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=10 * SLOW)
        if tls:
            client.starttls(ssl_context=client_tls_context())
        if user:
            client.login(user, password or self.password)
        return client

    def messages(self, address):
        """Contents of every delivered message in address's Maildir/new."""
        new = os.path.join(self.mailbox(address), "new")
        if not os.path.isdir(new):
            return []
        out = []
        for name in sorted(os.listdir(new)):
            with open(os.path.join(new, name), "rb") as f:
                out.append(f.read())
        return out

    def wait_messages(self, address, count, timeout=10):
        deadline = time.time() + timeout * SLOW
        while time.time() < deadline:
            msgs = self.messages(address)
            if len(msgs) >= count:
                return msgs
            time.sleep(0.05)
        return self.messages(address)

    def spool_files(self, journals=False):
        """Queued messages (and their .status journals if asked)."""
        queue = os.path.join(self.home, "spool", "queue")
        names = sorted(os.listdir(queue)) if os.path.isdir(queue) else []
        return [n for n in names if journals or "." not in n]

    def wait_spool_empty(self, timeout=5):
        """The spool entry is retired just after the Maildir delivery."""
        deadline = time.time() + timeout * SLOW
        while time.time() < deadline and self.spool_files():
            time.sleep(0.02)
        return self.spool_files()

    def tmp_files(self):
        tmp = os.path.join(self.home, "spool", "tmp")
        return sorted(os.listdir(tmp)) if os.path.isdir(tmp) else []

    def wait_log(self, text, timeout=5):
        deadline = time.time() + timeout * SLOW
        while time.time() < deadline and text not in self.read_log():
            time.sleep(0.02)
        return self.read_log()

    def check_log_clean(self):
        text = self.read_log()
        assert "AddressSanitizer" not in text, text
        assert "runtime error:" not in text, text
        assert "level=panic" not in text, text


@pytest.fixture(scope="session")
def postgres():
    """One PostgreSQL server for the whole run; each test takes a fresh
    database from it (postgres.new_database())."""
    import pgserver
    if not pgserver.available():
        pytest.fail("postgresql is not installed (scripts/deps installs it)")
    server = pgserver.PostgresServer(free_ports(1)[0]).start()
    yield server
    server.destroy()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request):
    """The `auth:` YAML for each user database backend: every test that
    takes this fixture runs once on SQLite and once on PostgreSQL. Pass it
    (plus any other auth keys, as YAML text) as Petrel(auth=...)."""
    if request.param == "sqlite":
        return {"backend": "sqlite"}
    dsn = request.getfixturevalue("postgres").new_database()
    return {"backend": "postgres", "dsn": '"%s"' % dsn}


@pytest.fixture
def home():
    path = make_home()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def petrel(home):
    server = Petrel(home).start()
    yield server
    code = server.stop()
    server.check_log_clean()
    assert code == 0, "petrel exited %s:\n%s" % (code, server.read_log()[-3000:])


@pytest.fixture
def make_petrel():
    """Factory for tests that need a non-default configuration."""
    servers = []

    def make(**kwargs):
        server = Petrel(make_home(), **kwargs).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        code = server.stop()
        server.check_log_clean()
        assert code in (0, None), server.read_log()[-3000:]
        shutil.rmtree(server.home, ignore_errors=True)


class LineClient:
    """Exact bytes to a server (on a loopback port, or a unix socket), its
    CRLF-ended lines back: what the raw SMTP, LMTP, IMAP and POP3 test
    clients share."""

    def __init__(self, port=None, tls=False, timeout=10, cert=None, unix_path=None):
        if unix_path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout * SLOW)
            self.sock.connect(unix_path)
        else:
            self.sock = socket.create_connection(("127.0.0.1", port), timeout * SLOW)
        self.cert = cert
        self.buffer = b""
        if tls:
            self.starttls()

    def send(self, data):
        self.sock.sendall(data)

    def read_line(self):
        """The next line, without its CRLF, as bytes."""
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; buffered %r" % self.buffer)
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def starttls(self):
        """TLS now (after STARTTLS, or at once for implicit TLS), showing
        self.cert, a (certificate, key) pair, when there is one."""
        ctx = client_tls_context()
        if self.cert:
            ctx.load_cert_chain(self.cert[0], self.cert[1])
        self.sock = ctx.wrap_socket(self.sock)

    def closed(self, timeout=5):
        """True if the server closes the connection (EOF) within timeout."""
        self.sock.settimeout(timeout * SLOW)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buffer += chunk
        except (ConnectionResetError, ssl.SSLError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


class Raw(LineClient):
    """A raw SMTP client that sends exact bytes and reads exact replies."""

    def __init__(self, port, timeout=10, tls=False, greeting=True):
        super().__init__(port, tls=tls, timeout=timeout)
        if greeting:
            self.banner = self.reply()

    def line(self):
        return self.read_line().decode("utf-8", "replace")

    def reply(self):
        """One (possibly multi-line) reply, as its lines."""
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self.line())
        return lines

    def code(self):
        return self.reply()[-1][:3]

    def cmd(self, text):
        self.send(text.encode() + b"\r\n" if isinstance(text, str) else text)
        return self.reply()


def client_tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


QUEUED = re.compile(r"^250 2\.0\.0 Ok: queued as ([0-9A-Z]{16})$")


def rss_kib(pid):
    """Resident memory of a process, in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def worker_pids(server):
    """The SMTP workers the master has running now (from its log)."""
    pids = [int(m) for m in re.findall(r"event=spawned kind=worker child=(\d+)",
                                         server.read_log())]
    return [p for p in pids if os.path.exists("/proc/%d" % p)]


def connect_from(source_ip, port):
    """A TCP connection to the server from a given loopback address."""
    s = socket.socket()
    s.bind((source_ip, 0))
    s.settimeout(10 * SLOW)
    s.connect(("127.0.0.1", port))
    return s


def read_line(s):
    """One line (up to CRLF) from a plain socket."""
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = s.recv(1024)
        if not chunk:
            break
        data += chunk
    return data
