"""What the kiosk may do while the server is unreachable, and the parts that make it possible."""

from __future__ import annotations

from dataclasses import dataclass, field

from offline_cache.catalog import CatalogCache
from offline_cache.offline_ops import OfflineRegistrar
from offline_cache.outbox import Outbox
from offline_cache.patients import RecentPatients
from sync.uploader import Uploader


@dataclass(frozen=True)
class OfflinePolicy:
    """Defaults from the product rules; each can be changed in the ``[offline]`` config table."""

    registration: bool = True  # browse the cached catalog and queue a "pending confirmation" booking
    filing: bool = True  # a first-time patient's record is queued with the booking
    # No switch for QR payments: they need the provider's answer, so offline the patient is
    # always sent to the cashier window.


@dataclass
class OfflineSupport:
    outbox: Outbox
    catalog: CatalogCache
    patients: RecentPatients
    registrar: OfflineRegistrar
    uploader: Uploader
    policy: OfflinePolicy = field(default_factory=OfflinePolicy)
