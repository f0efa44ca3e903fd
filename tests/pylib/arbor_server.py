"""Starts a real `arbor serve` on a free loopback port for black-box tests."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import requests

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_BIN = os.path.join(REPO, "build", "arbor")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ArborServer:
    """One arbor process over one data dir. Restartable (same dir, same port)."""

    def __init__(self, data_dir=None, api_key=None, org_name="arbor", binary=None, extra_args=(),
                 env=None):
        self.binary = binary or os.environ.get("ARBOR_BIN", DEFAULT_BIN)
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="arbor-test-")
        self.api_key = api_key or "arb_test_" + os.urandom(12).hex()
        self.org_name = org_name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_args = list(extra_args)
        self.env = dict(env or {})  # extra environment for the server process
        self.proc = None
        self.log_path = os.path.join(self.data_dir, "server.log")

    def start(self, timeout_s=20):
        env = dict(os.environ, ARBOR_BOOTSTRAP_API_KEY=self.api_key, **self.env)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--data-dir", self.data_dir,
             "--listen", f"127.0.0.1:{self.port}", "--org-name", self.org_name, *self.extra_args],
            env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"arbor exited with {self.proc.returncode}; see {self.log_path}")
            try:
                if requests.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError("arbor did not become ready")

    def kill(self):
        """SIGKILL: no chance to flush anything."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def cleanup(self):
        self.stop()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def headers(self, key=None):
        return {"Authorization": f"Bearer {key or self.api_key}"}

    def post(self, path, body=None, key=None, **kw):
        return requests.post(self.url + path, json=body, headers=self.headers(key), **kw)

    def get(self, path, key=None, **kw):
        return requests.get(self.url + path, headers=self.headers(key), **kw)

    def cli(self, *args):
        """Runs an offline `arbor` subcommand against this data dir; returns stdout."""
        out = subprocess.run([self.binary, *args, "--data-dir", self.data_dir],
                             check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def create_org(self, name):
        """Creates another org offline (server stopped) and returns its admin key."""
        return self.cli("orgs", "create", "--name", name)
