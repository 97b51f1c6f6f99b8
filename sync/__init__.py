"""Talking to the central server (no Qt)."""
