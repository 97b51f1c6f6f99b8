"""How fast a backlog drains once the server is back: 5,000 queued operations, loopback.

The kiosk side is the production outbox and uploader (``drain_once`` in a loop, no sleeps);
the server is ``python -m server`` in its own process with SQLite (``synchronous=FULL``) on both
sides. The backlog is what an offline morning leaves: first-time filings, each followed by the
registration that depends on it. The peer in the same run is the same uploader sending one
operation per request, as a client without batching would. Target: >= 200 operations per second.

    python bench/outbox_drain.py [--ops 5000] [--peer-ops 1000]
"""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from chaos import KIOSK_ID, Server, free_port, provision  # noqa: E402
from chaos_kiosk import identity  # noqa: E402

from offline_cache.ids import uuid7  # noqa: E402
from offline_cache.offline_ops import OfflineRegistrar  # noqa: E402
from offline_cache.outbox import Outbox  # noqa: E402
from offline_cache.patients import RecentPatients  # noqa: E402
from offline_cache.store import Store  # noqa: E402
from sync.client import ServerClient  # noqa: E402
from sync.fieldcrypto import FieldCipher  # noqa: E402
from sync.signing import KioskCredential  # noqa: E402
from sync.uploader import Uploader, UploaderSettings  # noqa: E402

TARGET = 200.0


def drain(work: Path, url: str, secret: str, ops: int, batch: int, slots: list[int], offset: int) -> tuple[float, int]:
    store = Store(work / f"kiosk-{batch}.db")
    outbox = Outbox(store, FieldCipher(secrets.token_bytes(32), domain="kiosk"))
    registrar = OfflineRegistrar(store, outbox, RecentPatients(store, outbox.cipher), KIOSK_ID)
    for i in range(ops // 2):  # each: a filing and the registration that depends on it
        registrar.queue_registration(
            uuid7(),
            registration_key=uuid7(),
            slot_id=slots[i % len(slots)],
            patient_masked="测* 1101**",
            claim=identity(offset + i),
        )
    client = ServerClient(url, kiosk_id=KIOSK_ID, credential=KioskCredential(KIOSK_ID, secret))
    uploader = Uploader(outbox, client, settings=UploaderSettings(batch_size=batch))
    started = time.perf_counter()
    while outbox.stats().pending:
        if uploader.drain_once() is None:
            raise RuntimeError(f"a batch failed: {uploader.status.last_error}")
    elapsed = time.perf_counter() - started
    confirmed = store.read().execute("SELECT count(*) FROM outbox WHERE state = 'confirmed'").fetchone()[0]
    client.close()
    store.close()
    return elapsed, int(confirmed)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ops", type=int, default=5000)
    ap.add_argument("--peer-ops", type=int, default=1000, help="backlog for the one-per-request peer")
    ap.add_argument("--batch", type=int, default=100)
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)  # one warning per "slot full" answer would bury the figures
    with tempfile.TemporaryDirectory(prefix="drain-") as tmp:
        work = Path(tmp)
        secret = provision(work)
        port = free_port()
        server = Server(work, port)
        server.start()
        server.wait_ready()
        url = f"http://127.0.0.1:{port}"
        try:
            with ServerClient(url, kiosk_id=KIOSK_ID, credential=KioskCredential(KIOSK_ID, secret)) as c:
                day = time.strftime("%Y-%m-%d")
                slots = [
                    s.slot_id for d in c.departments() for doc in c.doctors(d.code, day) for s in c.slots(doc.code, day)
                ]
            rows = []
            for name, ops, batch, offset in (
                (f"batched ({args.batch} per request)", args.ops, args.batch, 0),
                ("peer: one per request", args.peer_ops, 1, 100_000),
            ):
                elapsed, confirmed = drain(work, url, secret, ops, batch, slots, offset)
                rows.append((name, ops, elapsed, ops / elapsed, confirmed))
        finally:
            server.stop()
    print(f"{'uploader':32} {'ops':>6} {'seconds':>8} {'ops/s':>8} {'confirmed':>9}")
    for name, ops, elapsed, rate, confirmed in rows:
        print(f"{name:32} {ops:6d} {elapsed:8.2f} {rate:8.0f} {confirmed:9d}")
    rate = rows[0][3]
    verdict = "met" if rate >= TARGET else "NOT met"
    print(
        f"drain: {rate:.0f} ops/s batched vs {rows[1][3]:.0f} ops/s one per request "
        f"({rate / rows[1][3]:.1f}x); target >= {TARGET:.0f} ops/s {verdict}"
    )
    return 0 if rate >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
