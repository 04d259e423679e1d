"""The README works as written: every command block in it runs, in order,
against the embedded default (`petrel serve` with no configuration), as a
new user would type it after `make install`; every YAML block is a
configuration petrel takes. It runs in private network and mount
namespaces (readme_runner.py), so its DNS examples get local answers and
nothing leaves the machine."""

import json
import os
import re
import subprocess

import pytest

from conftest import PETREL, SLOW, make_home

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
RUNNER = os.path.join(os.path.dirname(__file__), "readme_runner.py")
# Set-up blocks: what `make test` itself is running.
SET_UP = ("make run", "make test")


def readme_blocks():
    """The indented code blocks of README.md, in order."""
    with open(os.path.join(ROOT, "README.md")) as f:
        lines = f.read().split("\n")
    blocks, current, previous_blank = [], None, True
    for i, line in enumerate(lines):
        if line.startswith("    ") and (current is not None or previous_blank):
            current = current or []
            current.append(line[4:])
        elif current is not None and line.strip() == "" and \
                i + 1 < len(lines) and lines[i + 1].startswith("    "):
            current.append("")
        elif current is not None:
            blocks.append("\n".join(current).strip("\n"))
            current = None
        previous_blank = line.strip() == ""
    if current:
        blocks.append("\n".join(current).strip("\n"))
    return blocks


def is_yaml(block):
    return re.match(r"^[a-z_]+:", block) is not None


def test_readme_has_the_blocks_a_new_user_needs():
    blocks = readme_blocks()
    text = "\n".join(blocks)
    assert any(b.startswith("make run") for b in blocks)
    for needed in ("swaks --server 127.0.0.1:2525", "imaps://127.0.0.1:1993",
                   "pop3s://127.0.0.1:1995", "-starttls imap", "-starttls pop3",
                   "-starttls smtp", "petrel user add", "petrel alias add",
                   "petrel queue list", "petrel dns lookup", "petrel status",
                   "curl http://127.0.0.1:2580/metrics"):
        assert needed in text, needed


def test_yaml_blocks_are_valid_configurations(tmp_path):
    for block in [b for b in readme_blocks() if is_yaml(b)]:
        config = tmp_path / "petrel.yaml"
        config.write_text("home: %s\n%s\n" % (make_home(), block))
        r = subprocess.run([PETREL, "-c", str(config), "check-config"], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, (block, r.stderr)


@pytest.mark.timeout(300)
def test_every_command_block_runs(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("the private network namespace needs root")
    probe = subprocess.run(["unshare", "--net", "--mount", "true"], capture_output=True,
                           text=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip("cannot create namespaces here: " + probe.stderr.strip())
    blocks = [b for b in readme_blocks() if not is_yaml(b) and not b.startswith(SET_UP)]
    blocks_file = tmp_path / "blocks.json"
    blocks_file.write_text(json.dumps(blocks))
    r = subprocess.run(["unshare", "--net", "--mount", "/usr/bin/python3", RUNNER,
                        os.path.abspath(PETREL), str(blocks_file)],
                       capture_output=True, text=True, timeout=240 * SLOW)
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads(r.stdout)
    for result in report["results"]:
        assert result["status"] == 0, "README block failed:\n%s\n--- stdout\n%s--- stderr\n%s" \
            "--- petrel's log (end)\n%s" % (result["block"], result["stdout"],
                                           result["stderr"], report["log"][-3000:])
    assert len(report["results"]) == len(blocks)
    def output(fragment):
        return next(res["stdout"] for res in report["results"] if fragment in res["block"])
    # What the README says the commands show, they show.
    first = output("swaks --server 127.0.0.1:2525")
    assert re.search(r"^\d+\.\w+\.", first, re.M), first  # a Maildir file name
    assert "listener: http 127.0.0.1:2580 tls=none" in first  # petrel status
    mail = output("imaps://127.0.0.1:1993/INBOX -X")
    assert "* SEARCH 1" in mail, mail
    assert "Delivered-To: test@example.test" in output("INBOX;UID=1")
    assert "Delivered-To: test@example.test" in output("pop3s://127.0.0.1:1995/1")
    # The six s_client sessions: each greeting, or the reply to the
    # command sent inside TLS (after STARTTLS no greeting comes again).
    tls = output("-starttls imap").split("\n")
    assert tls.count("a OK Logout completed") == 2, tls
    assert tls.count("+OK Bye") == 2 and tls.count("221 2.0.0 Bye") == 2, tls
    for greeting in ("* OK [CAPABILITY IMAP4rev1", "+OK petrel POP3 ready", "220 "):
        assert any(line.startswith(greeting) for line in tls), (greeting, tls)
    dns = output("petrel dns lookup")
    assert re.search(r"example\.org\.\s+\d+\s+IN\s+MX\s+10 mail\.example\.org\.", dns), dns
    assert "v=spf1 mx -all" in dns and "192.0.2.10" in dns
    users = output("petrel domain add")
    assert "alice@example.net" in users and "bob@example.net" in users
    metrics = output("curl http://127.0.0.1:2580/metrics")
    assert "petrel_messages_total" in metrics and "ok" in metrics
    assert report["stop"] == 0
    # The mail the README sent arrived where it says.
    log = report["log"]
    assert re.search(r"event=delivery .*to=alice@example\.net orig_to=sales@example\.net "
                     r".*status=sent", log), log[-3000:]
