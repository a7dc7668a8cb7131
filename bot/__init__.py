"""Decides and replies: answer, clarify, small talk, or escalate. Never imports app or handoff."""

from bot.decision import BotConfig, Candidate, ConversationContext, Decision, respond

__all__ = ["BotConfig", "Candidate", "ConversationContext", "Decision", "respond"]
