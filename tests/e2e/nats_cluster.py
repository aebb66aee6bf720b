"""A three-node JetStream cluster of the bundled nats-server, on loopback, for tests.

Each node is configured like deploy/nats/cluster/nats-N.conf (server name, JetStream with
`sync_interval: always`, cluster `pathways`, routes to every node) but on free ports, with a
temporary store and without the accounts, which the test suite does not exercise. Nodes are
started with PR_SET_PDEATHSIG like the embedded server, so a killed test run leaves no orphan,
and `stop()` ends every node (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from services.core.embedded import die_with_parent, server_binary
from tests.support import free_port

CLUSTER_NAME = "pathways"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


@dataclass
class Node:
    name: str
    client_port: int
    cluster_port: int
    monitor_port: int
    data_dir: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.client_port}"

    @property
    def route(self) -> str:
        return f"nats-route://127.0.0.1:{self.cluster_port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "nats-server.log"

    def config(self, routes: list[str]) -> str:
        store = (self.data_dir / "jetstream").resolve()
        return (
            f"server_name: {self.name}\n"
            f"listen: 127.0.0.1:{self.client_port}\n"
            f"http: 127.0.0.1:{self.monitor_port}\n"
            f'jetstream {{\n  store_dir: "{store}"\n  sync_interval: always\n}}\n'
            f"cluster {{\n  name: {CLUSTER_NAME}\n  listen: 127.0.0.1:{self.cluster_port}\n"
            f"  routes: [{', '.join(routes)}]\n}}\n"
        )

    def start(self, routes: list[str]) -> None:
        """Start (or restart, on the same ports and store). Call from the main thread: the
        death signal follows the thread that started the process."""
        assert not self.running, f"{self.name} is already running"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "nats-server.conf"
        config.write_text(self.config(routes))
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(server_binary()), "-c", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent if sys.platform == "linux" else None,
        )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, and reap it: no shutdown, no goodbye to the cluster."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGKILL)
            self.process.wait(STOP_TIMEOUT)
        self._close_log()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit in time."""
        try:
            if self.process is not None and self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(STOP_TIMEOUT)
        finally:
            self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def monitor(self, path: str) -> Any:
        """A monitoring endpoint of this node (/jsz, /routez ...), parsed; blocking."""
        url = f"http://127.0.0.1:{self.monitor_port}{path}"
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.load(response)

    def local_streams(self) -> dict[str, dict[str, Any]]:
        """This node's own copy of every stream (its state, not the leader's), by name."""
        jsz = self.monitor("/jsz?streams=true")
        found: dict[str, dict[str, Any]] = {}
        for account in jsz.get("account_details") or []:
            for stream in account.get("stream_detail") or []:
                found[stream["name"]] = stream
        return found

    def meta_ready(self, size: int) -> bool:
        """JetStream is up here and this node sees a meta leader and all its peers."""
        try:
            meta = self.monitor("/jsz").get("meta_cluster") or {}
        except OSError:
            return False
        return bool(meta.get("leader")) and len(meta.get("replicas") or []) == size - 1


@dataclass
class NatsCluster:
    nodes: list[Node]

    @property
    def url(self) -> str:
        """The multi-server URL services are given: every node, comma-separated."""
        return ",".join(node.url for node in self.nodes)

    @property
    def routes(self) -> list[str]:
        return [node.route for node in self.nodes]

    def node(self, name: str) -> Node:
        return next(node for node in self.nodes if node.name == name)

    def start(self) -> None:
        for node in self.nodes:
            node.start(self.routes)
        self.wait_ready()

    def restart(self, node: Node) -> None:
        node.start(self.routes)

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not all(n.running and n.meta_ready(len(self.nodes)) for n in self.nodes):
            for node in self.nodes:
                if node.process is not None and node.process.poll() is not None:
                    raise AssertionError(f"{node.name} exited: {self.log_tail(node)}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the cluster did not form within {timeout:g}s")
            time.sleep(0.1)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    @staticmethod
    def log_tail(node: Node, lines: int = 20) -> str:
        if not node.log_path.exists():
            return "no log"
        return "\n".join(node.log_path.read_text(errors="replace").splitlines()[-lines:])


def three_nodes(base: Path) -> NatsCluster:
    """Three nodes n1..n3 on free client, cluster and monitoring ports."""
    ports = distinct_ports(9)
    nodes = []
    for i in range(3):
        client, cluster, monitor = ports[3 * i : 3 * i + 3]
        nodes.append(Node(f"n{i + 1}", client, cluster, monitor, base / f"n{i + 1}"))
    return NatsCluster(nodes)


def distinct_ports(count: int) -> list[int]:
    """`count` free ports, no two alike (the kernel may hand the same one out twice)."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports
