"""Real mail clients against petrel (issue 12): mbsync syncing both ways
(flags, moves, deletions) until a run has nothing left to do, fetchmail
over POP3 with STLS, neomutt in tmux reading a message, and curl
appending one (-T)."""

import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import SLOW, wait_for
from test_imap import deliver, wait_delivered

USER = "test@example.test"


def need(tool):
    if shutil.which(tool) is None:
        pytest.fail("%s is not installed (scripts/deps test)" % tool)


@pytest.fixture
def server(make_petrel):
    # debug: one log line per IMAP command, to see what a client asked
    return make_petrel(imap=True, pop3=True, extra_yaml="log: {level: debug}\n")


def cert(server):
    return os.path.join(server.home, "tls", "cert.pem")


def maildir_files(path):
    out = []
    for sub in ("new", "cur"):
        d = os.path.join(path, sub)
        out += [os.path.join(d, n) for n in os.listdir(d)] if os.path.isdir(d) else []
    return out


def mbsync(config):
    r = subprocess.run(["mbsync", "-c", config, "-a"], capture_output=True, text=True,
                       timeout=60 * SLOW)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout + r.stderr


@pytest.mark.timeout(180)
def test_mbsync_two_way(server, tmp_path):
    need("mbsync")
    for i in range(3):
        deliver(server, subject="message %d" % i)
    wait_delivered(server, 3)
    m = server.imap()
    m.create("Work")
    m.append("Work", "(\\Flagged)", None, b"Subject: in work\r\n\r\nbody\r\n")
    m.logout()
    local = tmp_path / "mail"
    local.mkdir()
    config = tmp_path / "mbsyncrc"
    config.write_text("""IMAPAccount petrel
Host 127.0.0.1
Port {port}
User {user}
Pass {password}
SSLType STARTTLS
CertificateFile {cert}
AuthMechs PLAIN

IMAPStore remote
Account petrel

MaildirStore local
Path {local}/
Inbox {local}/INBOX
SubFolders Verbatim

Channel sync
Far :remote:
Near :local:
Patterns *
Create Both
Remove Both
Expunge Both
SyncState *
""".format(port=server.imap_port, user=USER, password=server.password, cert=cert(server),
           local=local))
    out = mbsync(str(config))
    inbox = maildir_files(str(local / "INBOX"))
    assert len(inbox) == 3, out
    work = maildir_files(str(local / "Work"))
    assert len(work) == 1 and re.search(r":2,F", work[0]), (work, out)
    # Local changes: one seen, one deleted, one moved to Work.
    inbox.sort()
    os.rename(inbox[0], re.sub(r":2,.*$", "", inbox[0]) + ":2,S")
    os.rename(inbox[1], re.sub(r":2,.*$", "", inbox[1]) + ":2,T")
    # (mbsync's ",U=n" is a UID of the folder it came from: not kept)
    moved = os.path.join(str(local / "Work"), "cur",
                         re.sub(r",U=\d+", "", os.path.basename(inbox[2])))
    os.rename(inbox[2], moved)
    mbsync(str(config))
    m = server.imap()
    typ, data = m.select("INBOX")
    assert data == [b"1"], data  # the deleted one expunged, the moved one gone
    typ, data = m.fetch("1", "(FLAGS)")
    assert b"\\Seen" in data[0]
    assert m.select("Work")[1] == [b"2"]
    # Server-side changes go the other way.
    m.store("1", "+FLAGS", "\\Answered")
    m.logout()
    mbsync(str(config))
    assert any(re.search(r":2,.*R", f) for f in maildir_files(str(local / "Work")))
    # And then there is nothing left to do: the local files stay as they
    # are, and petrel is asked for no change (its debug log has every
    # command).
    def local_state():
        return sorted(os.path.relpath(f, str(local)) for box in ("INBOX", "Work")
                      for f in maildir_files(str(local / box)))
    before, mark = local_state(), len(server.read_log())
    mbsync(str(config))
    assert local_state() == before
    commands = re.findall(r"event=imap-command .*", server.read_log()[mark:])
    assert commands, server.read_log()[mark:]
    changes = [c for c in commands if re.search(
        r"command=(APPEND|STORE|EXPUNGE|COPY|MOVE)|subcommand=(STORE|EXPUNGE|COPY|MOVE)", c)]
    assert changes == [], changes


@pytest.mark.timeout(120)
def test_fetchmail_pop3_stls(server, tmp_path):
    need("fetchmail")
    deliver(server, subject="for fetchmail", body="fetched body\r\n")
    deliver(server, subject="second", body=".a dot line\r\n")
    wait_delivered(server, 2)
    out_dir = tmp_path / "fetched"
    out_dir.mkdir()
    rc = tmp_path / "fetchmailrc"
    # "localhost": a name the self-signed certificate carries
    rc.write_text('poll localhost service {port} protocol pop3 auth password\n'
                  '  user "{user}" password "{password}"\n'
                  '  sslproto TLS1.2+ sslcertck sslcertfile "{cert}"\n'
                  '  mda "/bin/sh -c \'cat > {out}/msg.$$\'"\n'
                  .format(port=server.pop3_port, user=USER, password=server.password,
                          cert=cert(server), out=out_dir))
    rc.chmod(0o600)
    r = subprocess.run(["fetchmail", "-f", str(rc), "-v", "--nosyslog",
                        "--pidfile", str(tmp_path / "pid")],
                       capture_output=True, text=True, timeout=60 * SLOW,
                       env=dict(os.environ, FETCHMAILHOME=str(tmp_path)))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "STLS" in r.stdout + r.stderr
    bodies = [open(os.path.join(out_dir, n), "rb").read() for n in os.listdir(out_dir)]
    assert len(bodies) == 2, r.stdout + r.stderr
    assert any(b"fetched body" in b for b in bodies)
    assert any(b"\n.a dot line" in b for b in bodies), bodies  # unstuffed again
    # fetchmail deletes what it fetched (DELE, then QUIT): the INBOX is empty.
    m = server.imap()
    assert m.select("INBOX") == ("OK", [b"0"])
    m.logout()


@pytest.mark.timeout(120)
def test_neomutt_in_tmux(server, tmp_path):
    need("neomutt")
    need("tmux")
    deliver(server, subject="Hello from petrel", body="The body neomutt shows.\r\n")
    wait_delivered(server, 1)
    muttrc = tmp_path / "muttrc"
    muttrc.write_text("""set imap_user = "{user}"
set imap_pass = "{password}"
set folder = "imaps://127.0.0.1:{port}/"
set spoolfile = "+INBOX"
set certificate_file = "{cert}"
set ssl_verify_host = yes
set header_cache = ""
set message_cachedir = ""
set mail_check = 60
set pager_stop = yes
set confirmappend = no
set sort = date
unset wait_key
""".format(user=USER, password=server.password, port=server.imaps_port,
           cert=cert(server)))
    session = "petrel-mutt-%d" % os.getpid()
    env = dict(os.environ, TERM="xterm", HOME=str(tmp_path))
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "40",
                    "neomutt -n -F %s" % muttrc], check=True, env=env, timeout=30)

    def screen():
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", session],
                              capture_output=True, text=True, timeout=30).stdout
    try:
        assert wait_for(lambda: "Hello from petrel" in screen(), timeout=30), screen()
        subprocess.run(["tmux", "send-keys", "-t", session, "Enter"], check=True, timeout=30)
        assert wait_for(lambda: "The body neomutt shows." in screen(), timeout=30), screen()
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True, timeout=30)
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True, timeout=30)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True,
                       timeout=30)
    # Reading it set \Seen.
    m = server.imap()
    m.select("INBOX")
    assert wait_for(lambda: b"\\Seen" in m.fetch("1", "(FLAGS)")[1][0])
    m.logout()


def test_curl_append_and_list(server, tmp_path):
    need("curl")
    message = tmp_path / "message.eml"
    message.write_bytes(b"Subject: uploaded by curl\r\n\r\nbody\r\n")
    base = ["curl", "-s", "--cacert", cert(server), "--user",
            "%s:%s" % (USER, server.password)]
    r = subprocess.run(base + ["-T", str(message),
                               "imaps://127.0.0.1:%d/Drafts" % server.imaps_port],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(base + ["imaps://127.0.0.1:%d/Drafts;UID=1" % server.imaps_port],
                       capture_output=True, text=True, timeout=60)
    assert "Subject: uploaded by curl" in r.stdout
    r = subprocess.run(base + ["--ssl-reqd", "imap://127.0.0.1:%d/" % server.imap_port],
                       capture_output=True, text=True, timeout=60)
    assert '"Drafts"' in r.stdout, r.stdout + r.stderr
    deliver(server)
    wait_delivered(server, 1)
    r = subprocess.run(base + ["--ssl-reqd", "pop3://127.0.0.1:%d/" % server.pop3_port],
                       capture_output=True, text=True, timeout=60)
    assert re.match(r"1 \d+", r.stdout), r.stdout + r.stderr
