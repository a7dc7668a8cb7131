"""What a stored event or article version becomes for webhooks: its event types, and the outbox row
(the JSON body every attempt sends unchanged) for one endpoint."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timezone
from typing import Any

from app.storage.integrations import Endpoint

EVENT_TYPES = ("conversation.started", "message.created", "note.created", "case.escalated", "case.assigned",
               "case.transferred", "case.resolved", "rating.given", "article.published")


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()
    return str(value)


def event_types(row: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """(type, source key, data) for one stored event row: what integrations hear about it."""
    data = dict(row.data or {})
    conversation = {"id": row.conversation_id, "lang": row.lang, "site_key": row.site_key}
    event: dict[str, Any] = {"seq": row.seq, "kind": row.kind, "sender": row.sender, "visibility": row.visibility,
                             "text": row.text, "created_at": _iso(row.created_at), "client_msg_id": row.client_msg_id}
    if data.get("agent"):
        event["agent"] = data["agent"]
    out: list[tuple[str, str, dict[str, Any]]] = []
    if row.seq == 1:
        out.append(("conversation.started", f"ev:{row.id}:started", {"conversation": conversation}))
    kind = None
    if row.kind == "message" and row.visibility == "public":
        kind = "message.created"
        for key in ("action", "confidence", "article"):
            if data.get(key) is not None:
                event[key] = data[key]
    elif row.kind == "note":
        kind = "note.created"
    elif row.kind == "rating":
        kind = "rating.given"
        event.update(score=data.get("score"), case_id=data.get("case_id"))
    elif row.kind == "handoff":
        status = data.get("status")
        case = {"id": data.get("case_id"), "status": status, "reason": data.get("reason"), "agent": data.get("agent")}
        if status == "queued" and not data.get("released"):
            kind = "case.escalated"
        elif status == "assigned":
            kind = "case.transferred" if data.get("transferred_from") else "case.assigned"
            if data.get("transferred_from"):
                case["transferred_from"] = data["transferred_from"]
        elif status == "resolved":
            kind = "case.resolved"
        if kind:
            event["case"] = case
    if kind:
        out.append((kind, f"ev:{row.id}", {"conversation": conversation, "event": event}))
    return out


def outbox_row(endpoint: Endpoint, kind: str, source: str, data: dict[str, Any], created_at: Any,
               conversation_id: str | None, seq: int | None) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    body = json.dumps({"id": "evt_" + source.replace(":", "_"), "type": kind, "created_at": _iso(created_at),
                       "data": data}, ensure_ascii=False, separators=(",", ":"), default=str)
    return {"id": "whd_" + secrets.token_hex(12), "endpoint_id": endpoint.id, "source": source, "event_type": kind,
            "conversation_id": conversation_id, "seq": seq, "payload": body, "status": "pending", "attempts": 0,
            "next_attempt_at": now, "created_at": now}
