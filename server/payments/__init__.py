"""Payments: the WeChat Pay v2 adapter, its sandbox, and the never-charge-twice state machine."""
