"""scripts/deps installs per purpose: `make run` gets only what builds and
runs petrel; the test suite's and benchmarks' peers come with their own
groups, and Postfix (a peer) never becomes the machine's sendmail."""

import os
import subprocess

import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
DEPS = os.path.join(ROOT, "scripts", "deps")


def group(name):
    out = subprocess.run([DEPS, "--list", name], capture_output=True, text=True,
                         check=True, timeout=10).stdout
    return set(out.split())


def test_run_installs_only_build_and_runtime_packages():
    run = group("run")
    assert {"meson", "libssl-dev", "libunbound-dev", "libsqlite3-dev"} <= run
    for peer in ("postfix", "postgresql", "php-cli", "php-net-dns2", "nsd", "clang",
                 "prometheus"):
        assert peer not in run


def test_test_and_bench_groups_add_their_peers():
    run, test, bench, every = group("run"), group("test"), group("bench"), group("all")
    assert run < test and run < bench
    assert {"postfix", "postgresql", "nsd", "clang", "prometheus"} <= test
    assert {"postfix", "php-net-dns2", "nsd"} <= bench
    assert "php-net-dns2" not in test
    assert test | bench <= every


def test_unknown_group_is_a_usage_error():
    r = subprocess.run([DEPS, "--list", "tset"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2
    assert "unknown group 'tset'" in r.stderr


def test_postfix_does_not_own_sendmail():
    """Installed for the tests, Postfix's sendmail (which fails on the
    missing /etc/postfix/main.cf) is diverted aside."""
    if not os.path.exists("/usr/sbin/postfix"):
        pytest.skip("postfix not installed")
    diverted = subprocess.run(["dpkg-divert", "--truename", "/usr/sbin/sendmail"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
    assert diverted == "/usr/sbin/sendmail.postfix"
    if os.path.exists("/usr/sbin/sendmail"):
        owner = subprocess.run(["dpkg-query", "-S", "/usr/sbin/sendmail"],
                               capture_output=True, text=True, timeout=10).stdout
        assert "postfix: /usr/sbin/sendmail" not in owner
