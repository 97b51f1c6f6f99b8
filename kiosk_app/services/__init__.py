"""Blocking work behind the flows (server, store, printer); runs in workers, never on the Qt thread."""
