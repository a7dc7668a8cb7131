"""Real servers and real socket clients for end-to-end tests (no mocks)."""

from __future__ import annotations

import asyncio
import email
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Callable

import httpx
import websockets

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
SHOTS = ARTIFACTS / "screenshots"  # browser tests' screenshots
MODEL_CACHE = Path.home() / ".cache" / "parley" / "onnx"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(data_dir: Path, demo: bool = True, **extra: str) -> dict[str, str]:
    """A test server's environment. `demo` (the default): demo mode with keyless customer sockets
    allowed, as the tests built on the demo data expect; demo=False is a production desk."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_") and k not in ("DATABASE_URL", "REDIS_URL")}
    if demo:
        env.update({"PARLEY_DEMO_MODE": "true", "PARLEY_REQUIRE_WIDGET_KEY": "false"})
    env.update({
        "PARLEY_DATA_DIR": str(data_dir),
        "PARLEY_DATABASE_URL": f"sqlite+aiosqlite:///{data_dir}/parley.db",
        "PARLEY_LOGIN_ATTEMPTS_PER_MINUTE": "1000",
        "PARLEY_CONVERSATIONS_PER_MINUTE": "100000",  # every test client shares 127.0.0.1
        "PARLEY_IP_MESSAGES_PER_MINUTE": "100000",
        "PARLEY_MAX_SOCKETS_PER_IP": "100000",
        "PARLEY_MODEL_CACHE_DIR": str(MODEL_CACHE),  # every test server shares one ONNX export
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "TOKENIZERS_PARALLELISM": "false",
    })
    env.update(extra)
    return env


def run_cli(args: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


class Inbox:
    """aiosmtpd handler: keeps every message the desk hands over."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        return "250 OK"


class LiveServer:
    """`parley serve` in a subprocess on a free port, ready when /readyz says so."""

    def __init__(self, data_dir: Path, port: int | None = None, demo: bool = True, **env: str) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.env = server_env(data_dir, demo, **env)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / f"server-{self.port}.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 240) -> "LiveServer":  # generous: a loaded 2-core box starts slowly
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(self.port)],
                                     env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.base_url + "/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server not ready in {timeout}s:\n{self.log_path.read_text()[-3000:]}")

    def stop(self, kill: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def login(self, email: str, password: str = "parley-demo") -> str:
        r = httpx.post(self.base_url + "/api/auth/login", json={"email": email, "password": password}, timeout=10)
        r.raise_for_status()
        return str(r.json()["access_token"])


def copy_data(template: Path, target: Path) -> Path:
    shutil.copytree(template, target, dirs_exist_ok=True)
    for log in target.glob("server-*.log"):
        log.unlink()
    return target


class Client:
    """A websocket client that keeps every frame it received, for asserting on transcripts."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self._pending: list[dict[str, Any]] = []

    @classmethod
    async def connect(cls, url: str, **kwargs: Any) -> "Client":
        return cls(await websockets.connect(url, open_timeout=10, **kwargs))

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def recv(self, timeout: float = 10) -> dict[str, Any]:
        if self._pending:
            return self._pending.pop(0)
        frame = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        self.frames.append(frame)
        return frame  # type: ignore[no-any-return]

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10) -> dict[str, Any]:
        """The first frame matching `predicate`; frames before it stay recorded in `frames`."""
        for i, frame in enumerate(self._pending):
            if predicate(frame):
                del self._pending[: i + 1]
                return frame
        self._pending.clear()
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no matching frame in {timeout}s; got {self.frames[-5:]}")
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), left))
            self.frames.append(frame)
            if predicate(frame):
                return frame  # type: ignore[no-any-return]

    def seen(self, kind: str = "message") -> list[dict[str, Any]]:
        return [f for f in self.frames if f.get("type") == kind]

    async def close(self) -> None:
        await self.ws.close()


def is_type(kind: str, **fields: Any) -> Callable[[dict[str, Any]], bool]:
    return lambda f: f.get("type") == kind and all(f.get(k) == v for k, v in fields.items())
