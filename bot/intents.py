"""Recognisers for what the customer says about the conversation itself, not about the articles.

Plain functions over text, in English, German, French, Spanish, Italian, Portuguese and Dutch
(slang and typos included): requests for a person, small talk, frustration, and "that didn't help".
tests/fixtures/intents_dev.json is their development set (tests/test_bot_dev_set.py holds the
figures; `python -m tests.intents_report` prints them).

Each rule family lives in a module of its own; this one gathers their public functions so that the
conversation (bot/decision.py) and the analytics read them from one place:
- bot/person_request.py: is_human_request (its word lists in bot/person_words.py);
- bot/smalltalk_rules.py: smalltalk_kind, strip_greeting;
- bot/frustration.py: is_frustrated, is_not_helpful;
- bot/short_replies.py: yes_or_no (to "Would you like a person?"), short_kind (fillers, "anyone there?");
- bot/text.py: normalise and the word helpers they share.
"""

from __future__ import annotations

from bot.frustration import is_frustrated, is_not_helpful
from bot.person_request import is_human_request
from bot.smalltalk_rules import smalltalk_kind, strip_greeting
from bot.text import normalise

__all__ = ["is_frustrated", "is_human_request", "is_not_helpful", "normalise", "smalltalk_kind", "strip_greeting"]
