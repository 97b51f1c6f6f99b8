"""Outpatient bills (缴费): items, lock-then-pay, and the insurance pre-settlement that splits them."""
