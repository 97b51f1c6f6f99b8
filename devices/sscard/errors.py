"""Errors peculiar to the social-security card; each has a stable ``code`` and a ``tr_key``.

Generic failures reuse the keys of :mod:`devices.errors` (``CardReadError``, ``DeviceUnavailable``).
"""

from __future__ import annotations

from devices.errors import CardReadError


class NotSocialSecurityCard(CardReadError):
    """The card has no SSSE application (6A82 on its SELECT): a bank card, a transit card, upside down."""

    code = "not_social_security_card"
    tr_key = "sscard.not_social_security_card"


class CardPinBlocked(CardReadError):
    """The card wants its PIN before it shows the holder's data, or the PIN is already blocked.

    The kiosk never sends VERIFY (guessing would block the patient's card), so either way the patient
    is sent to a counter. ``attempts_left`` is 0 when blocked (6983), x for 63Cx, None when the card
    only said "security status not satisfied" (6982).
    """

    code = "card_pin_blocked"
    tr_key = "sscard.pin_blocked"

    def __init__(self, detail: str = "", *, attempts_left: int | None = 0, code: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.attempts_left = attempts_left


class MalformedRecord(CardReadError):
    """A record that does not parse (bad TLV, wrong tag, bad BCD or GBK): shown as a failed read."""

    code = "sscard_record_malformed"
