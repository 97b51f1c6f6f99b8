"""Cashier window mode (收费窗口): staff shifts, settlements by payment code, cash or bank card,
supervisor-approved refunds and the end-of-shift report."""
