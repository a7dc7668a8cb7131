"""Simulated customers and agents that survive faults the way a real widget and console should.

A customer keeps its conversation token and the last `seq` it saw; when its socket fails it
reconnects with backoff (to the next server in its list), resumes with `last_seq`, and resends
every message not yet acknowledged with the same `client_msg_id`. An agent logs in once, keeps
its claimed conversations and their last seq, and re-opens them after reconnecting. Both keep a
log of everything acknowledged and received, for comparing against the database afterwards.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets

ACK_TIMEOUT = 2.0  # resend (same client_msg_id) when no acknowledgement arrives in this time
STALL_TIMEOUT = 6.0  # reconnect when a message stays unacknowledged this long
MAX_BACKOFF = 0.5


@dataclass
class Outage:
    started: float
    ended: float | None = None


@dataclass
class ClientLog:
    name: str
    outages: list[Outage] = field(default_factory=list)
    connects: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def lost(self) -> None:
        if not self.outages or self.outages[-1].ended is not None:
            self.outages.append(Outage(time.monotonic()))

    def back(self) -> None:
        self.connects += 1
        if self.outages and self.outages[-1].ended is None:
            self.outages[-1].ended = time.monotonic()


class _Reconnect(Exception):
    pass


class SimCustomer:
    """One widget: chats at a steady rate, survives server, Redis and database faults."""

    def __init__(self, name: str, urls: list[str], interval: float, wants_human: bool = False) -> None:
        self.name = name
        self.urls = urls
        self.interval = interval
        self.wants_human = wants_human
        self.log = ClientLog(name)
        self.token: str | None = None
        self.conversation_id: str | None = None
        self.last_seq = 0
        self.received: list[tuple[int, str, str]] = []  # (seq, sender, text) in arrival order
        self.acked: dict[str, int] = {}  # client_msg_id -> seq
        self.pending: dict[str, tuple[str, float]] = {}  # client_msg_id -> (text, last sent at)
        self.texts: dict[str, str] = {}
        self.first_sent: dict[str, float] = {}
        self.acked_at: dict[str, float] = {}
        self._counter = itertools.count(1)
        self._connected_at = 0.0
        self._asked_human = False
        self._ws: Any = None

    async def run(self, stop: asyncio.Event, sending: asyncio.Event) -> None:
        target, backoff = 0, 0.05
        while not stop.is_set():
            url = self.urls[target % len(self.urls)].replace("http://", "ws://") + "/ws/chat"
            if self.token:
                url += f"?token={self.token}&last_seq={self.last_seq}"
            try:
                async with websockets.connect(url, open_timeout=3, close_timeout=1, ping_interval=None) as ws:
                    self._ws = ws
                    await self._session(ws, stop, sending)
                    return
            except (OSError, asyncio.TimeoutError, websockets.WebSocketException, _Reconnect) as exc:
                self._ws = None
                if isinstance(exc, websockets.ConnectionClosed) and exc.rcvd and exc.rcvd.code == 1008:
                    raise AssertionError(f"{self.name}: server refused the token: {exc.rcvd.reason}") from None
                if stop.is_set():
                    return
                self.log.lost()
                target += 1  # no load balancer: try the other process next
                await asyncio.sleep(backoff * (0.5 + random.random()))
                backoff = min(backoff * 2, MAX_BACKOFF)
                if backoff >= MAX_BACKOFF:
                    backoff = 0.05

    async def _session(self, ws: Any, stop: asyncio.Event, sending: asyncio.Event) -> None:
        session = json.loads(await asyncio.wait_for(ws.recv(), 3))
        assert session["type"] == "session", session
        if self.token is None:
            self.token, self.conversation_id = session["token"], session["conversation_id"]
        self.log.back()
        self._connected_at = time.monotonic()
        for cmid, (text, _) in list(self.pending.items()):
            await self._send_message(ws, cmid, text)
        reader = asyncio.create_task(self._reader(ws))
        try:
            while not stop.is_set():
                if reader.done():
                    reader.result()
                    raise _Reconnect()
                now = time.monotonic()
                for cmid, (text, sent_at) in list(self.pending.items()):
                    if now - max(self.first_sent[cmid], self._connected_at) > STALL_TIMEOUT:
                        raise _Reconnect()  # the socket looks alive but nothing moves: try a fresh one
                    if now - sent_at > ACK_TIMEOUT:
                        await self._send_message(ws, cmid, text)
                if sending.is_set():
                    if self.wants_human and not self._asked_human:
                        self._asked_human = True
                        await ws.send(json.dumps({"type": "request_human"}))
                    n = next(self._counter)
                    cmid = f"{self.name}-{n}"
                    text = f"how do I reset my password ({self.name} #{n})"
                    self.texts[cmid] = text
                    await self._send_message(ws, cmid, text)
                await asyncio.sleep(self.interval * (0.8 + 0.4 * random.random()) if sending.is_set() else 0.1)
        finally:
            reader.cancel()

    async def _send_message(self, ws: Any, cmid: str, text: str) -> None:
        self.first_sent.setdefault(cmid, time.monotonic())
        self.pending[cmid] = (text, time.monotonic())
        await ws.send(json.dumps({"type": "message", "text": text, "client_msg_id": cmid}))

    async def _reader(self, ws: Any) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            seq = frame.get("seq")
            if frame.get("duplicate") and seq is not None:  # a retry's acknowledgement, not a delivery
                cmid = frame.get("client_msg_id")
                if cmid and self.acked.setdefault(cmid, seq) != seq:
                    self.log.errors.append({"type": "error", "code": "ack_changed", "frame": frame})
                self.pending.pop(cmid, None)
            elif frame["type"] in ("message", "handoff") and seq is not None:
                self.received.append((seq, frame.get("sender") or "system", frame.get("text") or ""))
                self.last_seq = max(self.last_seq, seq)
                cmid = frame.get("client_msg_id")
                if frame.get("sender") == "customer" and cmid:
                    self.acked[cmid] = seq
                    self.acked_at.setdefault(cmid, time.monotonic())
                    self.pending.pop(cmid, None)
            elif frame["type"] == "error":
                self.log.errors.append(frame)

    @property
    def unacknowledged(self) -> int:
        return len(self.pending)


class SimAgent:
    """One console: claims waiting cases, replies at a steady rate, re-opens its cases after reconnecting."""

    def __init__(self, name: str, urls: list[str], email: str, password: str, interval: float,
                 max_cases: int = 2) -> None:
        self.name = name
        self.urls = urls
        self.email = email
        self.password = password
        self.interval = interval
        self.max_cases = max_cases
        self.log = ClientLog(name)
        self.token: str | None = None
        self.cases: dict[str, int] = {}  # conversation id -> case id
        self.last_seq: dict[str, int] = {}
        self.received: dict[str, list[int]] = {}  # conversation id -> seqs in arrival order
        self.acked: dict[str, tuple[str, int]] = {}  # client_msg_id -> (conversation id, seq)
        self.pending: dict[str, tuple[str, str, float]] = {}  # client_msg_id -> (conversation, text, sent at)
        self._claiming: set[int] = set()
        self.claimed_at: list[float] = []
        self.first_sent: dict[str, float] = {}
        self.acked_at: dict[str, float] = {}
        self._counter = itertools.count(1)
        self._connected_at = 0.0

    async def login(self, base: str) -> None:
        async with httpx.AsyncClient(timeout=30) as http:  # password hashing is slow on purpose
            r = await http.post(base + "/api/auth/login", json={"email": self.email, "password": self.password})
            r.raise_for_status()
            self.token = r.json()["access_token"]

    async def run(self, stop: asyncio.Event, sending: asyncio.Event) -> None:
        target, backoff = 0, 0.05
        while not stop.is_set():
            base = self.urls[target % len(self.urls)]
            try:
                if self.token is None:
                    await self.login(base)
                ws_url = base.replace("http://", "ws://") + f"/ws/agent?token={self.token}"
                async with websockets.connect(ws_url, open_timeout=3, close_timeout=1, ping_interval=None) as ws:
                    await self._session(ws, stop, sending)
                    return
            except (OSError, asyncio.TimeoutError, httpx.HTTPError, websockets.WebSocketException, _Reconnect):
                if stop.is_set():
                    return
                self.log.lost()
                target += 1
                await asyncio.sleep(backoff * (0.5 + random.random()))
                backoff = min(backoff * 2, MAX_BACKOFF)
                if backoff >= MAX_BACKOFF:
                    backoff = 0.05

    async def _session(self, ws: Any, stop: asyncio.Event, sending: asyncio.Event) -> None:
        hello = json.loads(await asyncio.wait_for(ws.recv(), 3))
        assert hello["type"] == "hello", hello
        self.log.back()
        self._connected_at = time.monotonic()
        self._claiming.clear()
        for conv_id in self.cases:
            await ws.send(json.dumps({"type": "open", "conversation_id": conv_id, "last_seq": self.last_seq[conv_id]}))
        for cmid, (conv_id, text, _) in list(self.pending.items()):
            await self._send_message(ws, cmid, conv_id, text)
        reader = asyncio.create_task(self._reader(ws))
        try:
            while not stop.is_set():
                if reader.done():
                    reader.result()
                    raise _Reconnect()
                now = time.monotonic()
                for cmid, (conv_id, text, sent_at) in list(self.pending.items()):
                    if now - max(self.first_sent[cmid], self._connected_at) > STALL_TIMEOUT:
                        raise _Reconnect()
                    if now - sent_at > ACK_TIMEOUT:
                        await self._send_message(ws, cmid, conv_id, text)
                if sending.is_set():
                    for conv_id in list(self.cases):
                        n = next(self._counter)
                        cmid = f"{self.name}-{n}"
                        await self._send_message(ws, cmid, conv_id, f"agent {self.name} says #{n}")
                await asyncio.sleep(self.interval * (0.8 + 0.4 * random.random()) if sending.is_set() else 0.1)
        finally:
            reader.cancel()

    async def _send_message(self, ws: Any, cmid: str, conv_id: str, text: str) -> None:
        self.first_sent.setdefault(cmid, time.monotonic())
        self.pending[cmid] = (conv_id, text, time.monotonic())
        await ws.send(json.dumps({"type": "message", "conversation_id": conv_id, "text": text,
                                  "client_msg_id": cmid, "ref": cmid}))

    def _seen(self, conv_id: str, seq: int) -> None:
        self.received.setdefault(conv_id, []).append(seq)
        self.last_seq[conv_id] = max(self.last_seq.get(conv_id, 0), seq)

    async def _reader(self, ws: Any) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            kind = frame["type"]
            if kind == "queue" and len(self.cases) + len(self._claiming) < self.max_cases:
                free = [c for c in frame["cases"] if c["id"] not in self._claiming and c["conversation_id"] not in self.cases]
                if free:  # a random one, so that several agents do not all race for the oldest
                    case = random.choice(free)
                    self._claiming.add(case["id"])
                    await ws.send(json.dumps({"type": "claim", "case_id": case["id"], "ref": f"claim-{case['id']}"}))
            elif kind == "transcript":
                conv_id = frame["conversation_id"]
                self.last_seq.setdefault(conv_id, 0)
                for event in frame["events"]:
                    self._seen(conv_id, event["seq"])
            elif kind == "event":
                self._seen(frame["conversation_id"], frame["event"]["seq"])
            elif kind == "ack":
                ref = frame["ref"]
                if ref.startswith("claim-"):
                    case = frame["case"]
                    self.cases[case["conversation_id"]] = case["id"]
                    self.claimed_at.append(time.monotonic())
                    self._claiming.discard(case["id"])
                elif ref in self.pending:
                    conv_id = self.pending.pop(ref)[0]
                    self.acked[ref] = (conv_id, frame["seq"])
                    self.acked_at.setdefault(ref, time.monotonic())
            elif kind == "error":
                ref = frame.get("ref") or ""
                if ref.startswith("claim-"):
                    self._claiming.discard(int(ref.split("-", 1)[1]))
                else:
                    self.log.errors.append(frame)

    @property
    def unacknowledged(self) -> int:
        return len(self.pending)
