"""Kiosk-local SQLite store: transactions, print jobs, audit (no Qt)."""
