"""Server settings: one frozen dataclass, so a test or the demo states every knob it changes."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class ServerSettings:
    # The SQLite file (the embedded default). With ``database_url`` set, the data lives in
    # PostgreSQL and this path only anchors the default key file location.
    db_path: Path
    database_url: str | None = None  # postgresql://user:password@host/dbname
    host: str = "127.0.0.1"
    port: int = 8700
    # The 32-byte key that encrypts patient identities in the database. None = "server.key" beside
    # the database file; created (mode 0600) on first start. Back it up apart from the database.
    key_path: Path | None = None

    # Payment provider. ``None`` means the WeChat Pay sandbox mounted in this same server
    # (``http://host:port/sandbox/wxpay``), so the demo needs no network and no real merchant.
    pay_base_url: str | None = None
    pay_appid: str = "wx00000000sandbox"  # fictitious: only the sandbox accepts these
    pay_mch_id: str = "1900000001"
    merchant_key: str = "sandbox0merchant0key0000000000ab"  # the 32-char v2 API key
    # PEM file (cert + key) for the mutual-TLS reverse call at the real provider; the sandbox needs none.
    pay_client_cert: str | None = None

    # Alipay 当面付 (RSA2). None = the Alipay sandbox mounted in this server, with key pairs made at
    # start. For a real merchant: the gateway URL, the app id, and two PEM files that stay on this
    # server - the merchant's private key and Alipay's public key.
    alipay_gateway_url: str | None = None
    alipay_app_id: str = "2021000000000001"  # fictitious: only the sandbox accepts it
    alipay_private_key_path: Path | None = None
    alipay_public_key_path: Path | None = None

    # The audit chain's head, written outside the database every minute so a cut-off log is detected.
    # None = "audit.anchor" beside the key file; put it on other storage in production.
    audit_anchor_path: Path | None = None

    # A bill locked for payment stays locked this long unless a payment under its key is unresolved.
    bill_lock_ttl_s: float = 300.0
    # A QR code the kiosk shows (WeChat Native / Alipay precreate) can be paid this long; then the
    # server closes the order. WeChat wants more than 1 minute; tests shrink it (the sandbox allows).
    qr_ttl_s: float = 120.0

    # 退号 at a kiosk (server/refunds/registration.py): allowed until this many minutes before the
    # slot starts (hospital wall time), never for a past slot nor once the visit has begun.
    registration_refund_cutoff_min: int = 30

    # One top-up of the prepaid account (预交金), by payment code: at least 1 yuan, at most 5000 yuan.
    top_up_min_cents: int = 100
    top_up_max_cents: int = 500_000

    # Official micropay guidance (protocols.md §3.2): query every 10 s until 30 s, then reverse,
    # never sooner than 15 s after the charge. The demo and tests shrink these.
    query_interval_s: float = 10.0
    query_deadline_s: float = 30.0
    reverse_delay_s: float = 15.0
    provider_connect_timeout_s: float = 3.0
    provider_read_timeout_s: float = 10.0

    sandbox_enabled: bool = True
    sandbox_userpaying_s: float = 4.0
    # How long the sandbox withholds the answer for auth codes ending in 9; None = read timeout + 2 s,
    # so the provider call always times out and the server has to find the payment by querying.
    sandbox_lost_response_s: float | None = None

    # Appointment check-in (预约取号) opens this long before the booked slot starts and closes this long
    # after; outside it the kiosk says "too early" / "too late" (server/appointments/).
    checkin_open_before_min: int = 60
    checkin_close_after_min: int = 15

    # A kiosk is listed as online while its last heartbeat is at most this old (it beats every 15 s).
    kiosk_online_window_s: float = 60.0

    # Kiosk endpoints accept only requests signed with an enrolled kiosk's credential (server/auth/).
    # Keep it on: False exists for a lab bench without enrolled kiosks, never for a hospital.
    require_signed_requests: bool = True
    # Demo only: when set, an ``admin`` staff account with this password is created at start if missing.
    demo_admin_password: str | None = None

    seed_demo: bool = True
    # Demo only: the demo ID cards' patients, with bookings around the start time and lab/imaging reports.
    seed_demo_patients: bool = False
    # The first day of the seeded week; None = the local date when the DB is first created.
    seed_today: date | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def resolved_key_path(self) -> Path:
        return self.key_path if self.key_path is not None else self.db_path.parent / "server.key"

    @property
    def resolved_audit_anchor_path(self) -> Path:
        return self.audit_anchor_path or self.resolved_key_path.parent / "audit.anchor"

    @property
    def provider_base_url(self) -> str:
        return self.pay_base_url or f"{self.base_url}/sandbox/wxpay"

    @property
    def lost_response_s(self) -> float:
        if self.sandbox_lost_response_s is not None:
            return self.sandbox_lost_response_s
        return self.provider_read_timeout_s + 2.0

    def with_fast_payments(self) -> ServerSettings:
        """Timings for the demo and tests: a full USERPAYING -> reverse cycle takes ~5 s, not ~45 s."""
        return dataclasses.replace(
            self,
            query_interval_s=0.5,
            query_deadline_s=4.0,
            reverse_delay_s=1.0,
            sandbox_userpaying_s=2.0,
            provider_read_timeout_s=2.0,
        )
