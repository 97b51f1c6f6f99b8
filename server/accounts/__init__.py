"""The prepaid account (预交金): a per-patient ledger topped up by payment code and spent on bills."""
