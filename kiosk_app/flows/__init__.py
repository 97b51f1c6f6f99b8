"""Patient flows as plain-Python state machines: events in, commands out, no Qt and no I/O."""
