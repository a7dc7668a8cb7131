"""Real-time fan-out behind one Broker protocol: in-process, or Redis pub/sub across processes.

The broker only says "something new"; the stored event log is the truth. A subscriber that may
have missed messages (slow consumer, Redis reconnect) receives {"type": "resync"} and re-reads
the store from its last seq.
"""
