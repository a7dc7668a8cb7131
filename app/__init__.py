"""The web edge and the wiring: settings, routes, sockets, storage, real-time fan-out, pages."""
