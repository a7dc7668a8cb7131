"""The ownership state machine, queue estimates and the audience rule."""

from __future__ import annotations

import pytest

from handoff.audience import customer_may_see
from handoff.queue import estimated_wait_seconds
from handoff.state import Action, InvalidTransition, Owner, allowed, bot_may_speak, transition


def test_the_happy_path() -> None:
    state = Owner.BOT
    for action, expected in [(Action.ESCALATE, Owner.QUEUED), (Action.CLAIM, Owner.ASSIGNED),
                             (Action.RESOLVE, Owner.RESOLVED), (Action.REOPEN, Owner.BOT)]:
        state = transition(state, action)
        assert state is expected


def test_a_resolved_case_the_customer_says_is_not_solved_goes_back_to_its_owner_or_the_queue() -> None:
    assert transition(Owner.RESOLVED, Action.RETURN) is Owner.ASSIGNED
    assert transition(Owner.RESOLVED, Action.ESCALATE) is Owner.QUEUED
    assert not allowed(Owner.ASSIGNED, Action.RETURN) and not allowed(Owner.BOT, Action.RETURN)


@pytest.mark.parametrize("state,action", [(Owner.BOT, Action.CLAIM), (Owner.QUEUED, Action.ESCALATE),
                                          (Owner.ASSIGNED, Action.CLAIM), (Owner.RESOLVED, Action.RESOLVE),
                                          (Owner.BOT, Action.HAND_BACK), (Owner.QUEUED, Action.HAND_BACK)])
def test_invalid_transitions_are_refused(state: Owner, action: Action) -> None:
    assert not allowed(state, action)
    with pytest.raises(InvalidTransition):
        transition(state, action)


def test_the_bot_speaks_only_when_it_owns_the_conversation() -> None:
    assert bot_may_speak("bot")
    assert not any(bot_may_speak(s) for s in ("queued", "assigned", "resolved"))


def test_wait_estimate_needs_someone_online() -> None:
    assert estimated_wait_seconds(3, 0, 240) is None
    assert estimated_wait_seconds(1, 2, 240) == 120
    assert estimated_wait_seconds(4, 2, 240) == 240


def test_internal_notes_never_reach_customers() -> None:
    assert customer_may_see("public") and not customer_may_see("internal")
