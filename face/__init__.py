"""Face capture, liveness and matching (issue 6; not part of the walking skeleton)."""
