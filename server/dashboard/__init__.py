"""The admin dashboard (server-rendered HTML under /dashboard) and the staff worklist.

Nothing is imported here, on purpose: server/schema.py imports ``server.dashboard.tables`` and must not pull the
routes (and with them server.db, which imports server.schema) in with it. The app mounts
``server.dashboard.routes.router``.
"""
