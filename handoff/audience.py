"""Who receives an event. The one place where privacy is decided: internal notes never reach customers."""

from __future__ import annotations

CUSTOMER = "customer"
AGENTS = "agents"


def audience(visibility: str) -> frozenset[str]:
    if visibility == "internal":
        return frozenset({AGENTS})
    return frozenset({CUSTOMER, AGENTS})


def customer_may_see(visibility: str) -> bool:
    return CUSTOMER in audience(visibility)
