"""Technician diagnostics mode: a hidden PIN-protected page for device status, self-tests, the
log, readiness reports and device addresses (see README.md here).

Importing the package loads no Qt: ``python -m kiosk_app.diagnostics.pin`` runs headless.
"""
