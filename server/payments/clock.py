"""China Standard Time: providers stamp trades and cut daily bills at midnight in UTC+8."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "CST")


def china_now() -> datetime:
    """Naive wall-clock time in China, as the providers' bills and time fields write it."""
    return datetime.now(CHINA).replace(tzinfo=None)


def china_today() -> date:
    return china_now().date()
