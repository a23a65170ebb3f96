"""A plain static file server to measure against: Debian's nginx serving a folder over TLS.

The benchmark starts it as an unprivileged foreground process with a configuration of its own (no
system configuration, logs and temporary files in a scratch folder), on a loopback port, serving the
unwatermarked copies of the same documents with the same certificate as the controller. Stopped by
its own pid.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from congress.errors import ConfigError

CONF = """
worker_processes {workers};
daemon off;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
worker_rlimit_nofile 16384;
events {{ worker_connections 8192; multi_accept on; }}
http {{
    access_log off;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000;
    types {{ application/pdf pdf; }}
    server {{
        listen 127.0.0.1:{port} ssl backlog=4096;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_session_cache off;
        root {root};
    }}
}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StaticServer:
    """nginx serving ``root`` at ``https://127.0.0.1:<port>/``."""

    def __init__(self, root: Path, cert: Path, key: Path, run_dir: Path, workers: int = 2) -> None:
        self.binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(self.binary).exists():
            raise ConfigError("nginx is not installed", hint="run make setup (scripts/setup-system.sh)")
        self.root = Path(root)
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self.conf = self.run_dir / "nginx.conf"
        self.conf.write_text(
            CONF.format(workers=workers, run=self.run_dir, port=self.port, cert=cert, key=key, root=root)
        )
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> StaticServer:
        # nginx's workers drop root for an unprivileged user: the files they serve must be readable.
        for folder in {self.root, *self.root.parents[:2]}:
            folder.chmod(folder.stat().st_mode | 0o711)
        self.root.chmod(0o755)
        for f in self.root.iterdir():
            f.chmod(0o644)
        self.proc = subprocess.Popen(
            [
                self.binary,
                "-e",
                str(self.run_dir / "error.log"),
                "-c",
                str(self.conf),
                "-p",
                str(self.run_dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ConfigError(f"nginx did not start: {self.proc.stderr.read().decode()[-400:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise ConfigError("nginx did not start listening within 10 s")

    def rss_mb(self) -> float:
        """Resident memory of nginx's master and workers."""
        total = 0
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                stat = Path(f"/proc/{pid}/stat").read_text().split()
                if int(stat[4]) == self.proc.pid or int(pid) == self.proc.pid:  # same session
                    total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf(
                        "SC_PAGE_SIZE"
                    )
            except (OSError, IndexError, ValueError):
                continue
        return total / 2**20

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: workers finish, then exit
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
