"""HTTP and websocket routes. Each module is one audience's edge; none of them decides anything."""
