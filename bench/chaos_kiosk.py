"""The kiosk side of ``bench/chaos.py``: the real offline store, outbox and uploader in one process.

It queues registrations as the lobby kiosk does offline (``OfflineRegistrar.queue_registration``:
business row, filing and registration in one transaction), "prints" a receipt after the commit
returns (one fsynced JSON line = the patient holds a slip), and runs the real :class:`Uploader`
thread against the server through the harness's fault-injecting proxy. The harness kills it with
SIGKILL at random points and starts it again on the same files.

``--bug second-tx`` swaps in a deliberately broken variant (the outbox rows are written in a
second transaction, after the slip has started printing) so the checker can prove it sees losses.

    python bench/chaos_kiosk.py --workdir DIR --server URL --slots 1,2,3 [--drain] [--bug second-tx]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

import sqlite_utils

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from offline_cache import journal as J
from offline_cache.ids import uuid7
from offline_cache.offline_ops import CREATE_REGISTRATION, FILE_PATIENT, IdentityClaim, OfflineRegistrar
from offline_cache.outbox import Outbox
from offline_cache.patients import RecentPatients
from offline_cache.store import Store
from sync.client import ServerClient
from sync.fieldcrypto import FieldCipher, load_or_create_key
from sync.signing import KioskCredential
from sync.uploader import Uploader, UploaderSettings

KIOSK_ID = "KIOSK-CHAOS"
PRINT_S = 0.03  # paper feeding out: the seeded bug writes its outbox rows only after this
_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def identity(n: int) -> IdentityClaim:
    """The n-th synthetic patient: a valid resident ID number (GB 11643) with its sex and birth."""
    rng = random.Random(n)
    birth = f"{rng.randint(1940, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    first17 = f"110105{birth}{n % 1000:03d}"
    check = "10X98765432"[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]
    sex = "M" if int(first17[16]) % 2 else "F"
    return IdentityClaim("resident", first17 + check, f"测试{n:04d}", sex, f"{birth[:4]}-{birth[4:6]}-{birth[6:]}")


def print_receipt(path: Path, record: dict[str, str]) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()
        os.fsync(f.fileno())


def queue_with_bug(
    store: Store,
    outbox: Outbox,
    receipts: Path,
    txn: str,
    key: str,
    slot: int,
    claim: IdentityClaim,
    patient_id: int | None,
) -> None:
    """THE SEEDED BUG: business row first, slip printing, outbox rows in a second transaction."""

    def business(db: sqlite_utils.Database) -> None:
        J.insert_transaction(db, txn, "registration", patient_masked="测* 1101**", patient_ref="")
        J.set_state(
            db, txn, J.QUEUED, "queued offline", slot_id=slot, provisional_no=f"P-{txn[-6:]}", registration_key=key
        )

    store.write(business)
    print_receipt(receipts, {"txn": txn, "key": key})
    time.sleep(PRINT_S)

    def queued(db: sqlite_utils.Database) -> None:
        filing = None if patient_id else outbox.add(db, FILE_PATIENT, claim.body(), txn_id=txn)
        body = {"patient_id": patient_id, "patient_op": filing, "slot_id": slot, "provisional_no": f"P-{txn[-6:]}"}
        outbox.add(db, CREATE_REGISTRATION, body, key=key, depends_on=filing, txn_id=txn)

    store.write(queued)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", type=Path, required=True)
    ap.add_argument("--server", required=True)
    ap.add_argument("--slots", required=True, help="comma-separated slot ids to book")
    ap.add_argument("--patients", type=int, default=400, help="size of the synthetic patient pool")
    ap.add_argument("--drain", action="store_true", help="queue nothing; exit once the outbox is empty")
    ap.add_argument("--bug", choices=["none", "second-tx"], default="none")
    args = ap.parse_args()

    work: Path = args.workdir
    secret = (work / "kiosk.secret").read_text().strip()
    store = Store(work / "kiosk.db")
    cipher = FieldCipher(load_or_create_key(work / "kiosk-data.key"), domain="kiosk")
    outbox = Outbox(store, cipher)
    patients = RecentPatients(store, cipher)
    registrar = OfflineRegistrar(store, outbox, patients, KIOSK_ID)
    client = ServerClient(
        args.server,
        kiosk_id=KIOSK_ID,
        connect_timeout=0.5,
        read_timeout=1.0,
        credential=KioskCredential(KIOSK_ID, secret),
    )
    # The code under test is the production uploader; only its timings are compressed so that
    # hundreds of kills fit in minutes (base 50 ms, cap 1 s, probes every 0.2-0.5 s).
    settings = UploaderSettings(batch_size=50, base_s=0.05, cap_s=1.0, probe_interval_s=(0.2, 0.5), idle_s=0.1)
    uploader = Uploader(outbox, client, settings=settings)
    uploader.start()
    receipts = work / "receipts.jsonl"
    slots = [int(s) for s in args.slots.split(",")]
    rng = random.Random()

    if args.drain:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and outbox.stats().pending:
            uploader.wake()
            time.sleep(0.1)
        pending = outbox.stats().pending
        uploader.stop()
        store.close()
        print(json.dumps({"pending_after_drain": pending}), flush=True)
        return 0 if pending == 0 else 3

    while True:
        claim = identity(rng.randrange(args.patients))
        known = patients.find(claim.id_type, claim.id_number)
        txn, key, slot = uuid7(), uuid7(), rng.choice(slots)
        if args.bug == "second-tx":
            queue_with_bug(store, outbox, receipts, txn, key, slot, claim, known.patient_id if known else None)
        else:
            queued = registrar.queue_registration(
                txn,
                registration_key=key,
                slot_id=slot,
                patient_masked="测* 1101**",
                patient_id=known.patient_id if known else None,
                claim=None if known else claim,
            )
            time.sleep(PRINT_S)  # the slip prints only after the commit returned
            print_receipt(receipts, {"txn": queued.txn_id, "key": queued.registration_key})
        uploader.wake()
        time.sleep(rng.uniform(0.005, 0.03))


if __name__ == "__main__":
    sys.exit(main())
