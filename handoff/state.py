"""The ownership state machine of a conversation.

    bot --escalate--> queued --claim--> assigned --resolve--> resolved
    bot --take_over (an agent joins)--> assigned
                        ^                  |  \\--hand_back--> bot
                        +---release--------+   \\--transfer--> assigned (another agent)
    resolved --customer writes--> bot;  queued --resolve--> resolved (closed as a ticket)
    resolved --"not solved" to a follow-up--> assigned (its owner), or --escalate--> queued (owner gone)

An open case's status is its conversation's owner state, moved by the same actions (app/storage/cases.py).

The bot may speak only in state `bot`. Every transition is checked here, server-side.
"""

from __future__ import annotations

from enum import Enum


class Owner(str, Enum):
    BOT = "bot"
    QUEUED = "queued"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"


class Action(str, Enum):
    ESCALATE = "escalate"
    CLAIM = "claim"
    RELEASE = "release"  # back to the queue: the agent went offline or did not reply in time
    TRANSFER = "transfer"
    RESOLVE = "resolve"
    HAND_BACK = "hand_back"
    REOPEN = "reopen"  # the customer writes after resolution: the bot takes it again
    TAKE_OVER = "take_over"  # an agent joins a conversation the bot is handling
    RETURN = "return"  # the customer says a resolved case is not solved: back to the agent who owned it


_TRANSITIONS: dict[tuple[Owner, Action], Owner] = {
    (Owner.BOT, Action.ESCALATE): Owner.QUEUED,
    (Owner.RESOLVED, Action.ESCALATE): Owner.QUEUED,
    (Owner.QUEUED, Action.CLAIM): Owner.ASSIGNED,
    (Owner.QUEUED, Action.RESOLVE): Owner.RESOLVED,
    (Owner.ASSIGNED, Action.RELEASE): Owner.QUEUED,
    (Owner.ASSIGNED, Action.TRANSFER): Owner.ASSIGNED,
    (Owner.ASSIGNED, Action.RESOLVE): Owner.RESOLVED,
    (Owner.ASSIGNED, Action.HAND_BACK): Owner.BOT,
    (Owner.RESOLVED, Action.REOPEN): Owner.BOT,
    (Owner.BOT, Action.TAKE_OVER): Owner.ASSIGNED,
    (Owner.RESOLVED, Action.RETURN): Owner.ASSIGNED,
}


class InvalidTransition(Exception):
    def __init__(self, state: Owner, action: Action) -> None:
        super().__init__(f"cannot {action.value} a conversation that is {state.value}")
        self.state = state
        self.action = action


def transition(state: Owner | str, action: Action | str) -> Owner:
    state, action = Owner(state), Action(action)
    try:
        return _TRANSITIONS[(state, action)]
    except KeyError:
        raise InvalidTransition(state, action) from None


def allowed(state: Owner | str, action: Action | str) -> bool:
    return (Owner(state), Action(action)) in _TRANSITIONS


def bot_may_speak(state: Owner | str) -> bool:
    return Owner(state) is Owner.BOT
