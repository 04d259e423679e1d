"""A private PostgreSQL server for the tests (Debian's postgresql): its
own data directory, port and socket, password authentication over TCP,
gone when the tests end."""

import os
import shutil
import subprocess
import tempfile
import time

PG_BIN = "/usr/lib/postgresql/15/bin"
SUPERUSER_PASSWORD = "pg-super"


def available():
    return os.path.exists(os.path.join(PG_BIN, "postgres"))


class PostgresServer:
    def __init__(self, port):
        self.port = port
        self.dir = tempfile.mkdtemp(prefix="petrel-pg-")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "server.log")
        self.databases = 0
        # initdb refuses to run as root: as root, run it as `postgres`.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, *args, input=None):
        return subprocess.run(self.as_user + list(args), input=input, text=True,
                              capture_output=True, check=True)

    def start(self):
        pwfile = os.path.join(self.dir, "pw")
        with open(pwfile, "w") as f:
            f.write(SUPERUSER_PASSWORD + "\n")
        if self.as_user:
            shutil.chown(pwfile, "postgres", "postgres")
        if not os.path.isdir(self.data):
            self._run(os.path.join(PG_BIN, "initdb"), "-D", self.data, "-U", "postgres",
                      "--auth-local=trust", "--auth-host=scram-sha-256",
                      "--pwfile=" + pwfile, "-E", "UTF8", "--no-sync")
        self._run(os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-l", self.log,
                  "-w", "-t", "60", "-o",
                  "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off "
                  "-c max_connections=200" % (self.port, self.dir), "start")
        return self

    def stop(self):
        self._run(os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-m", "immediate",
                  "-w", "stop")

    def psql(self, sql, database="postgres"):
        return self._run(os.path.join(PG_BIN, "psql"), "-h", self.dir, "-p",
                         str(self.port), "-U", "postgres", "-d", database, "-v",
                         "ON_ERROR_STOP=1", "-Atc", sql).stdout

    def new_database(self):
        """A fresh database and role; returns its libpq connection string."""
        self.databases += 1
        name = "petrel_%d_%d" % (os.getpid(), self.databases)
        self.psql("CREATE ROLE %s LOGIN PASSWORD 'pw-%s'" % (name, name))
        self.psql("CREATE DATABASE %s OWNER %s" % (name, name))
        return ("host=127.0.0.1 port=%d dbname=%s user=%s password=pw-%s "
                "connect_timeout=5" % (self.port, name, name, name))

    def destroy(self):
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
