"""Prometheus metrics (prometheus_client), one registry per app.

Several worker processes: set `PROMETHEUS_MULTIPROC_DIR` to an empty, writable folder shared by
the workers (before they start); `/metrics` then aggregates every process's counters. Without it
each process counts alone and a scrape sees the process that answered.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import CONTENT_TYPE_LATEST  # noqa: F401  (re-exported for the route)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def multiprocess_dir() -> str | None:
    # prometheus_client itself reads this variable; Parley only mirrors its choice.
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Metrics:
    """Every metric Parley exposes. The desk, the sockets and the HTTP middleware record here."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.messages = Counter("parley_messages", "Customer and agent messages stored.", registry=r)
        self.decisions = Counter("parley_decisions", "Bot decisions by action.", ["action"], registry=r)
        self.escalations = Counter("parley_escalations", "Escalations to a person by reason.", ["reason"], registry=r)
        self.decision_seconds = Histogram("parley_decision_seconds", "Time the bot takes to decide.",
                                          buckets=LATENCY_BUCKETS, registry=r)
        self.http_seconds = Histogram("parley_http_request_duration_seconds", "HTTP request latency.",
                                      ["method", "route", "status"], buckets=LATENCY_BUCKETS, registry=r)
        self.rate_limited = Counter("parley_rate_limited", "Refused by a rate limit, by scope.", ["scope"], registry=r)
        self.ws_connections = Gauge("parley_ws_connections", "Open websockets by socket.", ["socket"],
                                    multiprocess_mode="livesum", registry=r)
        self.queue_length = Gauge("parley_queue_length", "Cases waiting in the queue.",
                                  multiprocess_mode="mostrecent", registry=r)
        self.index_articles = Gauge("parley_index_articles", "Published articles in the search index.",
                                    multiprocess_mode="mostrecent", registry=r)
        self.purged = Counter("parley_purged_conversations", "Conversations deleted by retention or erasure.",
                              ["why"], registry=r)

    # ----------------------------------------------------------------- recording
    def message(self) -> None:
        self.messages.inc()

    def decision(self, action: str, seconds: float) -> None:
        self.decisions.labels(action=action).inc()
        self.decision_seconds.observe(seconds)

    def escalation(self, reason: str) -> None:
        self.escalations.labels(reason=reason).inc()

    # ----------------------------------------------------------------- exposition
    def render(self, queue_length: int, index_articles: int) -> bytes:
        self.queue_length.set(queue_length)
        self.index_articles.set(index_articles)
        if multiprocess_dir():
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
