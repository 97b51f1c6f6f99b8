"""The first-time filing (建档) screens; each renders a ``FilingFlow``."""
