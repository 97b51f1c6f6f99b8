"""Refunds of paid payments (退费) and the refund of a registration (退号).

- ``tables.py``: schema v9, the ``refunds`` table.
- ``providers.py``: WeChat Pay and Alipay refund calls seen through one small interface.
- ``service.py``: the refund state machine (requested -> refunded | pending -> ... | failed), its
  resolver, and the refunds' rows for daily reconciliation.
- ``registration.py``: 退号 - the hospital's window, the slot returned, the fee refunded.
- ``api.py``: the HTTP routes.
"""
