"""Who may call the server: enrolled kiosks (signed requests) and staff (password + session).

``server.auth.kiosks``: enrollment, kiosk credentials, the ``require_kiosk`` dependency.
``server.auth.staff``: staff accounts, sessions, the ``require_staff`` dependency.
``server.auth.tables``: their schema (migration 4). Nothing is imported here, on purpose:
server/schema.py imports ``server.auth.tables`` and must not pull the routers in with it.
"""
