"""Who owns a conversation, the queue, and who receives what. Imports nothing else of Parley's."""
