"""A scripted DNS server for bad-answer tests: UDP and TCP on one free
loopback port, answering each query as a per-name behaviour says. Only
what the tests need of the wire format (RFC 1035 4.1), written out by
hand so that every malformation is deliberate.

Behaviours (set with `server.behave(name, kind, **options)`):
  normal      the records given (rrs=[(type, rdata_bytes), ...]), NXDOMAIN
              if none and nxdomain=True, otherwise NODATA with a SOA
  servfail    RCODE 2
  truncated   UDP: TC=1 and no answers; TCP: the full answer
  oversized   UDP: the full answer, over 512 octets, with no OPT record
              whatever the query asked for
  malformed   UDP and TCP: a header promising answers, then garbage
  wrong_id    first a reply with another ID (and other addresses), then,
              after `delay`, the right one
  silent      nothing, ever
Every query is recorded in `server.queries` as (transport, name, type)."""

import socket
import struct
import threading
import time

from dnsserver import free_udp_tcp_port

A, NS, CNAME, SOA, MX, TXT, AAAA, OPT = 1, 2, 5, 6, 15, 16, 28, 41


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def rr(name, rtype, rdata, ttl=60):
    return encode_name(name) + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def a_rdata(ip):
    return socket.inet_aton(ip)


def mx_rdata(preference, host):
    return struct.pack("!H", preference) + encode_name(host)


def txt_rdata(text):
    data = text.encode()
    out = b""
    while data:
        out += bytes([len(data[:255])]) + data[:255]
        data = data[255:]
    return out


def soa_rdata(zone):
    return (encode_name("ns." + zone) + encode_name("hostmaster." + zone) +
            struct.pack("!IIIII", 1, 3600, 600, 86400, 60))


def parse_query(data):
    """(id, flags, name, type, has_opt) of a query, or None."""
    if len(data) < 12:
        return None
    qid, flags, qd, _an, _ns, ar = struct.unpack("!HHHHHH", data[:12])
    labels, i = [], 12
    while i < len(data) and data[i]:
        labels.append(data[i + 1:i + 1 + data[i]].decode("latin-1"))
        i += 1 + data[i]
    if qd != 1 or i + 5 > len(data):
        return None
    qtype = struct.unpack("!H", data[i + 1:i + 3])[0]
    return qid, flags, ".".join(labels).lower(), qtype, ar > 0, data[12:i + 5]


def reply(qid, question, rcode=0, answers=(), authority=(), tc=False, rd=True):
    flags = 0x8000 | 0x0400 | (0x0200 if tc else 0) | (0x0100 if rd else 0) | 0x0080 | rcode
    header = struct.pack("!HHHHHH", qid, flags, 1, len(answers), len(authority), 0)
    return header + question + b"".join(answers) + b"".join(authority)


class ScriptedDns:
    def __init__(self, zone="bad.test"):
        self.zone = zone
        self.port = free_udp_tcp_port()
        self.server = "127.0.0.1:%d" % self.port
        self.behaviours = {}
        self.queries = []
        self.lock = threading.Lock()
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.tcp = socket.socket()
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", self.port))
        self.tcp.listen(16)
        self.running = True
        self.threads = [threading.Thread(target=self._serve_udp, daemon=True),
                        threading.Thread(target=self._serve_tcp, daemon=True)]
        for t in self.threads:
            t.start()

    def behave(self, name, kind, **options):
        with self.lock:
            self.behaviours[name.lower().rstrip(".")] = (kind, options)

    def asked(self, name, transport=None):
        with self.lock:
            return [q for q in self.queries if q[1] == name.lower() and
                    (transport is None or q[0] == transport)]

    def stop(self):
        self.running = False
        for s in (self.udp, self.tcp):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    # -- answers

    def _records(self, name, qtype, options):
        rrs = options.get("rrs", [])
        return [rr(name, t, data) for t, data in rrs if t == qtype or t == CNAME]

    def _normal(self, qid, name, qtype, question, options):
        answers = self._records(name, qtype, options)
        if answers:
            return reply(qid, question, answers=answers)
        soa = rr(self.zone, SOA, soa_rdata(self.zone))
        rcode = 3 if options.get("nxdomain") or not options.get("rrs") else 0
        return reply(qid, question, rcode=rcode, authority=[soa])

    def _answer(self, data, transport):
        """The datagrams (or TCP messages) to send back, with delays:
        [(seconds, bytes), ...]."""
        parsed = parse_query(data)
        if parsed is None:
            return []
        qid, _flags, name, qtype, _has_opt, question = parsed
        with self.lock:
            self.queries.append((transport, name, qtype))
            kind, options = self.behaviours.get(name, ("normal", {"nxdomain": True}))
        if kind == "silent":
            return []
        if kind == "servfail":
            return [(0, reply(qid, question, rcode=2))]
        if kind == "truncated" and transport == "udp":
            return [(0, reply(qid, question, tc=True))]
        if kind == "malformed":
            # Promises two answers, then a name pointer into nowhere and
            # a record length past the end.
            header = struct.pack("!HHHHHH", qid, 0x8580, 1, 2, 0, 0)
            return [(0, header + question + b"\xc0\xff\x00\x01\x00\x01\x00\x00\x00\x3c\x01\x00"
                     + b"\x7f")]
        if kind == "wrong_id":
            decoy = dict(options, rrs=options.get("decoy", []))
            return [(0, self._normal((qid + 1) & 0xffff, name, qtype, question, decoy)),
                     (options.get("delay", 0.2),
                      self._normal(qid, name, qtype, question, options))]
        return [(0, self._normal(qid, name, qtype, question, options))]

    def _serve_udp(self):
        while self.running:
            try:
                data, peer = self.udp.recvfrom(65535)
            except OSError:
                return
            for delay, message in self._answer(data, "udp"):
                if delay:
                    time.sleep(delay)
                try:
                    self.udp.sendto(message, peer)
                except OSError:
                    return

    def _serve_tcp(self):
        while self.running:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            threading.Thread(target=self._tcp_client, args=(conn,), daemon=True).start()

    def _tcp_client(self, conn):
        with conn:
            conn.settimeout(5)
            try:
                while True:
                    size = conn.recv(2)
                    if len(size) < 2:
                        return
                    length = struct.unpack("!H", size)[0]
                    data = b""
                    while len(data) < length:
                        chunk = conn.recv(length - len(data))
                        if not chunk:
                            return
                        data += chunk
                    for delay, message in self._answer(data, "tcp"):
                        if delay:
                            time.sleep(delay)
                        conn.sendall(struct.pack("!H", len(message)) + message)
            except OSError:
                return
