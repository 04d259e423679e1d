"""Remote SMTP peers for delivery tests, on 127.0.0.x addresses:
Postfix's smtp-sink, and a scripted server for hostile behaviour."""

import email
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time


class Sink:
    """smtp-sink on address:port, dumping each message to a file.
    flags: e.g. ["-r", "rcpt"] (soft reject RCPT), ["-f", "rcpt"] (hard)."""

    def __init__(self, address, port, flags=()):
        self.dir = tempfile.mkdtemp(prefix="petrel-sink-")
        os.chmod(self.dir, 0o777)
        args = ["smtp-sink", "-d", os.path.join(self.dir, "m-")]
        if os.getuid() == 0:
            args += ["-u", "nobody"]
        args += list(flags) + ["%s:%d" % (address, port), "100"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection((address, port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("smtp-sink did not start")

    def messages(self):
        out = []
        for path in sorted(glob.glob(os.path.join(self.dir, "m-*"))):
            with open(path, "rb") as f:
                out.append(f.read())
        return out

    def stop(self):
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Scripted(threading.Thread):
    """A TCP server on address:port whose every connection is handled by
    handler(Conn). Records what clients sent."""

    def __init__(self, address, port, handler):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((address, port))
        self.sock.listen(16)
        self.handler = handler
        self.connections = 0
        self.transcripts = []
        self.start()

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            c = Conn(conn)
            self.transcripts.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            self.handler(c)
        except (OSError, EOFError):
            pass
        finally:
            c.close()

    def stop(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept()
        except OSError:
            pass
        self.sock.close()
        self.join(timeout=5)
        for c in self.transcripts:  # and drops the connections it had
            c.close()


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.sock.settimeout(30)
        self.buffer = b""
        self.received = b""

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def line(self):
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError()
            self.buffer += chunk
            self.received += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def data(self):
        """Reads DATA content through the terminating dot."""
        lines = []
        while True:
            line = self.line()
            if line == ".":
                return lines
            lines.append(line)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def serve_normally(c, after_data="250 2.0.0 Ok: queued",
                   extensions=("PIPELINING", "8BITMIME")):
    """A well-behaved server: the default conversation, offering
    extensions."""
    c.send("220 hostile.mail.test ESMTP\r\n")
    while True:
        line = c.line()
        verb = line.split(" ")[0].upper()
        if verb == "EHLO":
            c.send("".join("250-%s\r\n" % e for e in ("hostile.mail.test",) + extensions[:-1])
                   + "250 %s\r\n" % (extensions[-1] if extensions else "hostile.mail.test"))
        elif verb == "DATA":
            c.send("354 go ahead\r\n")
            c.data()
            c.send(after_data + "\r\n")
        elif verb == "QUIT":
            c.send("221 bye\r\n")
            return
        else:
            c.send("250 2.0.0 Ok\r\n")


def parse_dsn(raw):
    """A DSN as Python's email package sees it: (message, per-message
    fields, [per-recipient fields])."""
    msg = email.message_from_bytes(raw)
    assert msg.get_content_type() == "multipart/report", msg.get_content_type()
    assert msg.get_param("report-type") == "delivery-status"
    parts = msg.get_payload()
    assert parts[0].get_content_type() == "text/plain"
    assert parts[1].get_content_type() == "message/delivery-status"
    blocks = parts[1].get_payload()
    return msg, blocks[0], blocks[1:]
