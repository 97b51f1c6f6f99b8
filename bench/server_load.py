"""500 kiosks against the central server on loopback: throughput and p50 / p99 latency per endpoint.

Each simulated kiosk has its own credential and signs every request, as a real one does. It
sends a heartbeat every ``--heartbeat-s`` seconds and, every ``--pay-every-s`` seconds, serves a
patient: identify, register a slot, pay the fee (WeChat sandbox code ending in 0: paid at once).
Arrivals are open-loop (scheduled on a clock, not after the previous answer), so a slow server
shows up as latency instead of silently lowering the load.

The server is the real one (``python -m server``, one uvicorn process) with PostgreSQL (a
throw-away cluster with fsync on, as in production) and, as the peer in the same run, with its
embedded SQLite store under the same load. Target: p99 < 50 ms per endpoint on PostgreSQL.

    python bench/server_load.py [--kiosks 500] [--duration 60] [--backends postgres,sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.auth.kiosks import provision_kiosk  # noqa: E402
from server.crypto import FieldCipher, load_or_create_key  # noqa: E402
from server.db import open_database  # noqa: E402
from server.dbapi import write_tx  # noqa: E402
from server.patients import resident_check_digit  # noqa: E402
from server.pgtest import PostgresCluster  # noqa: E402
from sync.signing import KioskCredential, signed_headers  # noqa: E402

TARGET_P99_MS = 50.0
WECHAT_OK = "134567890123456780"  # the sandbox pays codes ending in 0 at once


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lag_ms: list[float] = field(default_factory=list)

    def record(self, label: str, started: float, ok: bool) -> None:
        self.latencies[label].append((time.perf_counter() - started) * 1000)
        if not ok:
            self.errors[label] += 1


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Kiosk:
    def __init__(
        self, index: int, client: httpx.AsyncClient, credential: KioskCredential, stats: Stats, slots: list[int]
    ) -> None:
        self.index = index
        self.client = client
        self.credential = credential
        self.stats = stats
        self.slots = slots

    async def call(self, label: str, method: str, path: str, body: Any = None) -> Any:
        content = json.dumps(body).encode() if body is not None else b""
        headers = signed_headers(self.credential, method, path, content)
        if body is not None:
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            r = await self.client.request(method, path, content=content or None, headers=headers)
        except httpx.HTTPError:
            self.stats.record(label, started, False)
            return None
        self.stats.record(label, started, r.status_code < 300)
        return r.json() if r.status_code < 300 else None

    async def heartbeat(self) -> None:
        body = {
            "software_version": "bench",
            "device_states": {"printer": "ready", "id_reader": "ready", "scanner": "ready"},
            "queue_depth": random.randint(0, 3),
            "oldest_pending_age_s": None,
            "kiosk_time": datetime.now(UTC).isoformat(),
        }
        await self.call("heartbeat", "POST", f"/api/v1/kiosks/{self.credential.kiosk_id}/heartbeat", body)

    async def serve_patient(self, n: int) -> None:
        seq = self.index * 1000 + n  # a new patient each time, as most kiosk visitors are today
        birth = date(1940, 1, 1) + timedelta(days=seq % 25000)
        first17 = f"110105{birth:%Y%m%d}{(seq // 25000 % 500) * 2 + 1:03d}"  # odd: male
        person = {
            "id_type": "resident",
            "id_number": first17 + resident_check_digit(first17),
            "name": f"压测{n}",
            "sex": "M",
            "birth": birth.isoformat(),
        }
        patient = await self.call("identify", "POST", "/api/v1/patients/identify", person)
        if not patient or not self.slots:
            return
        reg = await self.call(
            "register",
            "POST",
            "/api/v1/registrations",
            {"idempotency_key": str(uuid.uuid4()), "patient_id": patient["patient_id"], "slot_id": self.slots.pop()},
        )
        if not reg:
            return
        body = {
            "idempotency_key": str(uuid.uuid4()),
            "registration_id": reg["registration_id"],
            "amount_cents": reg["amount_cents"],
            "auth_code": WECHAT_OK,
            "kiosk_id": self.credential.kiosk_id,
        }
        await self.call("pay", "POST", "/api/v1/payments", body)


async def schedule(every_s: float, duration_s: float, start: float, stats: Stats, action: Any) -> None:
    """Open loop: fire ``action`` every ``every_s`` from a random phase, without waiting for it."""
    tasks = []
    due = start + random.uniform(0, every_s)
    n = 0
    while due < start + duration_s:
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        stats.lag_ms.append((time.perf_counter() - due) * 1000)
        tasks.append(asyncio.create_task(action(n)))
        n += 1
        due += every_s
    await asyncio.gather(*tasks)


async def free_slots(client: httpx.AsyncClient, credential: KioskCredential, need: int) -> list[int]:
    async def get(path: str) -> Any:
        r = await client.get(path, headers=signed_headers(credential, "GET", path, b""))
        r.raise_for_status()
        return r.json()

    slots: list[int] = []
    for offset in range(7):
        day = (date.today() + timedelta(days=offset)).isoformat()
        for dept in await get("/api/v1/departments"):
            for doc in await get(f"/api/v1/departments/{dept['code']}/doctors?date={day}"):
                for slot in await get(f"/api/v1/doctors/{doc['code']}/slots?date={day}"):
                    slots += [slot["slot_id"]] * slot["left"]
        if len(slots) >= need:
            break
    random.shuffle(slots)
    return slots


async def load(base_url: str, credentials: list[KioskCredential], args: argparse.Namespace) -> tuple[Stats, float]:
    stats = Stats()
    limits = httpx.Limits(max_connections=len(credentials), max_keepalive_connections=len(credentials))
    timeout = httpx.Timeout(10.0, connect=3.0)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout) as client:
        patients = int(len(credentials) * args.duration / args.pay_every_s) + 1
        pool = await free_slots(client, credentials[0], patients)
        kiosks = [Kiosk(i, client, c, stats, pool) for i, c in enumerate(credentials)]
        start = time.perf_counter()
        jobs = []
        for k in kiosks:
            jobs.append(schedule(args.heartbeat_s, args.duration, start, stats, lambda _n, k=k: k.heartbeat()))
            jobs.append(schedule(args.pay_every_s, args.duration, start, stats, k.serve_patient))
        await asyncio.gather(*jobs)
        elapsed = time.perf_counter() - start
    return stats, elapsed


def start_server(workdir: Path, database_url: str | None) -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, "-m", "server", "--db", str(workdir / "server.db"), "--key", str(workdir / "server.key")]
    cmd += ["--port", "0", "--fast-payments", "--log-level", "warning"]
    if database_url:
        cmd += ["--database-url", database_url]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise RuntimeError(f"server did not start: {line!r}")
    return proc, line.strip().rsplit(" ", 1)[1]


def provision(workdir: Path, database_url: str | None, kiosks: int) -> list[KioskCredential]:
    """Credentials made directly in the store, as ``python -m server kiosk add`` would, 500 times."""
    cipher = FieldCipher(load_or_create_key(workdir / "server.key"))
    db = open_database(database_url or workdir / "server.db")
    db.init(cipher)
    creds = []
    with db.connection() as conn, write_tx(conn):
        for i in range(kiosks):
            kiosk_id = f"BENCH-{i:04d}"
            creds.append(KioskCredential(kiosk_id, provision_kiosk(conn, cipher, kiosk_id)))
    db.close()
    return creds


def run_backend(backend: str, args: argparse.Namespace, cluster: PostgresCluster | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"bench-{backend}-") as tmp:
        workdir = Path(tmp)
        os.chmod(workdir, 0o700)
        url = cluster.create_database() if cluster is not None else None
        credentials = provision(workdir, url, args.kiosks)
        proc, base_url = start_server(workdir, url)
        try:
            stats, elapsed = asyncio.run(load(base_url, credentials, args))
        finally:
            proc.terminate()
            proc.wait(20)
    return {"backend": backend, "stats": stats, "elapsed": elapsed}


def report(result: dict[str, Any]) -> bool:
    stats: Stats = result["stats"]
    total = sum(len(v) for v in stats.latencies.values())
    rate = total / result["elapsed"]
    print(f"\n{result['backend']}: {total} requests in {result['elapsed']:.1f} s = {rate:.0f} req/s")
    print(f"  {'endpoint':<10} {'count':>6} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    ok = True
    for label in ("heartbeat", "identify", "register", "pay"):
        values = stats.latencies.get(label, [])
        p99 = pct(values, 0.99)
        ok &= p99 < TARGET_P99_MS and not stats.errors.get(label)
        print(
            f"  {label:<10} {len(values):>6} {stats.errors.get(label, 0):>6} {pct(values, 0.5):>8.1f}"
            f" {p99:>8.1f} {max(values, default=float('nan')):>8.1f}"
        )
    print(f"  scheduler lag p99 {pct(stats.lag_ms, 0.99):.1f} ms (the load generator's own delay)")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiosks", type=int, default=500)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load per backend")
    parser.add_argument("--heartbeat-s", type=float, default=15.0)
    parser.add_argument("--pay-every-s", type=float, default=60.0, help="each kiosk serves a patient this often")
    parser.add_argument("--backends", default="postgres,sqlite")
    args = parser.parse_args()
    random.seed(1)

    backends = args.backends.split(",")
    results = []
    cluster = PostgresCluster(fsync=True).start() if "postgres" in backends else None
    try:
        for backend in backends:
            results.append(run_backend(backend, args, cluster if backend == "postgres" else None))
    finally:
        if cluster is not None:
            cluster.stop()
    verdicts = {r["backend"]: report(r) for r in results}
    per_s = args.kiosks / args.heartbeat_s + 3 * args.kiosks / args.pay_every_s
    print(f"\noffered load: {args.kiosks} kiosks, ~{per_s:.0f} req/s; target p99 < {TARGET_P99_MS:.0f} ms per endpoint")
    for backend, ok in verdicts.items():
        print(f"{backend}: {'meets' if ok else 'MISSES'} the target")
    return 0 if verdicts.get("postgres", all(verdicts.values())) else 1


if __name__ == "__main__":
    raise SystemExit(main())
