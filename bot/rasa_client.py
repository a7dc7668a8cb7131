"""A small async client for a Rasa Open Source 3.x server started with `rasa run --enable-api`.

Rasa runs in its own Python 3.10 environment (it does not install on Parley's Python), so Parley
only ever talks to it over HTTP:

- `parse(text)` -> `POST /model/parse`: NLU only, no conversation state. For a retrieval intent
  the answer looks like `{"intent": {"name": "faq", "confidence": 0.99,
  "full_retrieval_intent_name": "faq/ask_shipping_cost"}, "response_selector": {"faq":
  {"response": {"intent_response_key": "faq/ask_shipping_cost", "responses": [{"text": ...}],
  ...}}}, "entities": [...], "intent_ranking": [...]}`; low confidence gives the intent
  `nlu_fallback`.
- `send(sender_id, text)` -> `POST /webhooks/rest/webhook`: a conversation turn, which updates
  Rasa's tracker for `sender_id`; returns the bot's messages, e.g.
  `[{"recipient_id": "abc", "text": "..."}]` (an empty list when the bot says nothing).

Connection errors, timeouts and 502/503/504 raise `RasaUnavailable`, so callers can fall back to
their own answer; other failures raise `RasaError`. Only the standard library and httpx are used.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

import httpx

__all__ = ["RasaClient", "RasaError", "RasaUnavailable"]

_UNAVAILABLE_STATUSES = {502, 503, 504}


class RasaError(RuntimeError):
    """Rasa answered, but not with what was expected (an HTTP error or a malformed body)."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class RasaUnavailable(RasaError):
    """Rasa could not be reached in time: not running, refusing connections, or too slow."""


class RasaClient:
    """`RasaClient("http://127.0.0.1:5005", timeout=5.0)`; use as `async with` or call `aclose()`.

    `token` is the server's `--auth-token`, if it was started with one. `transport` is for tests
    (e.g. `httpx.MockTransport`).
    """

    def __init__(
        self,
        base_url: str,
        timeout: float = 5.0,
        *,
        token: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._params = {"token": token} if token else None
        self._client = httpx.AsyncClient(base_url=self.base_url, timeout=timeout, transport=transport)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _request(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        try:
            response = await self._client.request(method, path, json=payload, params=self._params)
        except httpx.TimeoutException as exc:
            raise RasaUnavailable(
                f"Rasa at {self.base_url} did not answer {method} {path} within {self.timeout:g} s"
            ) from exc
        except httpx.TransportError as exc:  # connect errors, resets, protocol errors
            raise RasaUnavailable(f"Rasa at {self.base_url} is unreachable: {exc or type(exc).__name__}") from exc
        if response.status_code in _UNAVAILABLE_STATUSES:
            raise RasaUnavailable(
                f"Rasa at {self.base_url} answered {method} {path} with HTTP {response.status_code}",
                response.status_code,
            )
        if response.status_code >= 400:
            raise RasaError(
                f"Rasa at {self.base_url} answered {method} {path} with HTTP {response.status_code}: "
                f"{response.text[:300]}",
                response.status_code,
            )
        try:
            return response.json()
        except ValueError as exc:
            raise RasaError(
                f"Rasa at {self.base_url} answered {method} {path} with a body that is not JSON",
                response.status_code,
            ) from exc

    async def status(self) -> dict[str, Any]:
        """`GET /status`: `{"model_file": ..., "model_id": ..., "num_active_training_jobs": 0}`."""
        data = await self._request("GET", "/status")
        if not isinstance(data, dict):
            raise RasaError("Rasa's /status is not a JSON object")
        return data

    async def parse(self, text: str) -> dict[str, Any]:
        """NLU result for `text` (intent, entities, intent_ranking, response_selector)."""
        data = await self._request("POST", "/model/parse", {"text": text})
        if not isinstance(data, dict) or not isinstance(data.get("intent"), dict):
            raise RasaError("Rasa's /model/parse answer has no 'intent' object")
        return data

    async def send(self, sender_id: str, text: str) -> list[dict[str, Any]]:
        """One conversation turn on Rasa's REST channel; the bot's messages in order."""
        data = await self._request("POST", "/webhooks/rest/webhook", {"sender": sender_id, "message": text})
        if not isinstance(data, list) or not all(isinstance(m, dict) for m in data):
            raise RasaError("Rasa's REST webhook answer is not a list of messages")
        return data
