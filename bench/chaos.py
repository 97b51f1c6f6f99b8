"""Fault injection for the offline outbox: does every transaction reach the server exactly once?

Runs the real server (``python -m server``) and the real kiosk outbox and uploader
(``bench/chaos_kiosk.py``) as separate processes on loopback, with a fault-injecting TCP proxy
between them, and meanwhile:

- ``kill -9`` of the kiosk (about 85 % of ``--kills``) and of the server (the rest), at random points;
- ``--faults`` network faults: the connection dropped before the request reaches the server, the
  answer dropped after the server committed, the answer delayed past the kiosk's read timeout,
  and the server down for 1-3 s.

Then it lets the kiosk drain with no faults and checks both sides (Jepsen's total-queue checker):

- lost: a printed slip whose registration the server never applied;
- duplicated: a transaction booked twice, or a slip printed twice;
- mismatched: the kiosk and the server disagree (confirmed vs rejected, the registration number,
  a rejection without a staff worklist task);
- stuck: operations still pending after the drain;
- ``PRAGMA integrity_check`` on both databases.

``--seed-bug second-tx`` runs a kiosk that writes its outbox rows in a second transaction after
the slip started printing: the checker must then report losses. The summary line is printed last;
the exit status is 0 only when every count is zero and both databases are intact.

    python bench/chaos.py --kills 200 --faults 50 [--seed 1] [--seed-bug second-tx]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sync.client import ServerClient  # noqa: E402
from sync.signing import KioskCredential  # noqa: E402

KIOSK_ID = "KIOSK-CHAOS"
READ_TIMEOUT_S = 1.0  # the kiosk's, in chaos_kiosk.py: "delay" holds an answer longer than this
FAULTS = ("drop_before", "drop_after", "delay", "down")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Proxy:
    """A TCP relay whose current mode decides the fate of the bytes passing through it."""

    def __init__(self, port: int, upstream: int) -> None:
        self.port, self.upstream = port, upstream
        self._mode, self._until = "pass", 0.0
        self._lock = threading.Lock()
        self._sock = socket.create_server(("127.0.0.1", port))
        threading.Thread(target=self._serve, daemon=True).start()

    def inject(self, mode: str, duration: float) -> None:
        with self._lock:
            self._mode, self._until = mode, time.monotonic() + duration

    def mode(self) -> str:
        with self._lock:
            return self._mode if time.monotonic() < self._until else "pass"

    def _serve(self) -> None:
        while True:
            conn, _ = self._sock.accept()
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream), timeout=2)
        except OSError:
            client.close()  # server down: the kiosk sees the connection close
            return
        upstream.settimeout(None)
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def close() -> None:
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

        def up() -> None:  # kiosk -> server
            try:
                while data := client.recv(65536):
                    if self.mode() == "drop_before":
                        return close()
                    upstream.sendall(data)
            except OSError:
                pass
            close()

        def down() -> None:  # server -> kiosk: the server has already acted on what it answers
            try:
                while data := upstream.recv(65536):
                    mode = self.mode()
                    if mode == "drop_after":
                        return close()
                    if mode == "delay":
                        time.sleep(READ_TIMEOUT_S + 0.5)
                        return close()
                    client.sendall(data)
            except OSError:
                pass
            close()

        threading.Thread(target=up, daemon=True).start()
        down()


class Server:
    def __init__(self, work: Path, port: int) -> None:
        self.work, self.port = work, port
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = (work / "server.log").open("ab")

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server",
                "--db",
                str(self.work / "server.db"),
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("the server did not start; see server.log")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
            self.proc = None


class Kiosk:
    def __init__(self, work: Path, url: str, slots: list[int], bug: str) -> None:
        self.args = [
            sys.executable,
            str(ROOT / "bench" / "chaos_kiosk.py"),
            "--workdir",
            str(work),
            "--server",
            url,
            "--slots",
            ",".join(map(str, slots)),
            "--bug",
            bug,
        ]
        self.log = (work / "kiosk.log").open("ab")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.args, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def drain(self) -> int:
        return subprocess.run(
            [*self.args, "--drain"], cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, timeout=180
        ).returncode


def provision(work: Path) -> str:
    """Create and seed the server database with the kiosk provisioned; its secret."""
    out = subprocess.run(
        [sys.executable, "-m", "server", "kiosk", "add", "--db", str(work / "server.db"), "--kiosk-id", KIOSK_ID],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.search(r"shown once\): (\S+)", out)
    if found is None:
        raise RuntimeError(f"could not provision the kiosk: {out}")
    return found.group(1)


def setup(work: Path, port: int) -> tuple[str, list[int]]:
    """Provision the kiosk, pick today's open slots, and give most of them room."""
    secret = provision(work)
    (work / "kiosk.secret").write_text(secret)
    server = Server(work, port)
    server.start()
    server.wait_ready()
    client = ServerClient(f"http://127.0.0.1:{port}", kiosk_id=KIOSK_ID, credential=KioskCredential(KIOSK_ID, secret))
    slots = [
        s.slot_id
        for d in client.departments()
        for doc in client.doctors(d.code, time.strftime("%Y-%m-%d"))
        for s in client.slots(doc.code, time.strftime("%Y-%m-%d"))
        if s.left > 0
    ]
    client.close()
    server.stop()
    # Room for most bookings to succeed, with every fifth slot left tight so the "slot taken
    # while offline" rejection (and its worklist task) keeps happening too.
    conn = sqlite3.connect(work / "server.db")
    with conn:
        conn.execute("UPDATE slots SET capacity = booked + 40 WHERE id % 5 != 0")
    conn.close()
    return secret, slots


def rows(path: Path, sql: str) -> list[sqlite3.Row]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return "; ".join(str(r[0]) for r in conn.execute("PRAGMA integrity_check"))
    finally:
        conn.close()


def check(work: Path) -> dict[str, Any]:
    receipts: list[dict[str, str]] = []
    path = work / "receipts.jsonl"
    for line in path.read_text().splitlines() if path.exists() else []:
        with contextlib.suppress(ValueError):  # a line cut by kill -9 was never a complete slip
            receipts.append(json.loads(line))
    kdb, sdb = work / "kiosk.db", work / "server.db"
    outbox = {r["key"]: r for r in rows(kdb, "SELECT * FROM outbox")}
    txns = {r["id"]: r for r in rows(kdb, "SELECT * FROM transactions")}
    ops = {r["key"]: r for r in rows(sdb, f"SELECT * FROM sync_ops WHERE kiosk_id = '{KIOSK_ID}'")}
    regs = {r["idempotency_key"]: r for r in rows(sdb, "SELECT * FROM registrations")}
    worklist = {r["reference"] for r in rows(sdb, "SELECT reference FROM worklist_items WHERE source = 'offline_sync'")}

    lost = [r for r in receipts if r["key"] not in ops]
    slip_counts = Counter(r["txn"] for r in receipts)
    booked_per_txn = Counter(outbox[k]["txn_id"] for k in regs if k in outbox)
    duplicated = sum(n - 1 for n in slip_counts.values() if n > 1) + sum(
        n - 1 for n in booked_per_txn.values() if n > 1
    )
    unexpected = [k for k in ops if k not in outbox and k not in {r["key"] for r in receipts}]
    mismatched: list[str] = []
    stuck = 0
    for key, row in outbox.items():
        if row["state"] == "pending":
            stuck += 1
            continue
        server = ops.get(key)
        if server is None:
            mismatched.append(f"{key}: final on the kiosk, unknown to the server")
            continue
        if (row["state"] == "confirmed") != (200 <= server["status"] < 300):
            mismatched.append(f"{key}: kiosk {row['state']}, server {server['status']}")
        if row["kind"] != "registration.create" or row["txn_id"] not in txns:
            continue
        txn = txns[row["txn_id"]]
        if row["state"] == "confirmed":
            reg = regs.get(key)
            if reg is None or txn["state"] != "registered" or txn["reg_no"] != reg["reg_no"]:
                mismatched.append(f"{key}: kiosk says {txn['state']} {txn['reg_no']}, server {reg and reg['reg_no']}")
        else:
            if txn["state"] != "rejected":
                mismatched.append(f"{key}: rejected but the transaction is {txn['state']}")
            if key not in worklist:
                mismatched.append(f"{key}: rejected without a staff worklist task")
    stuck += sum(1 for t in txns.values() if t["state"] == "queued")
    replays = sum(1 for r in outbox.values() if r["state"] != "pending" and r["attempts"] > 1)
    return {
        "receipts": len(receipts),
        "ops": len(outbox),
        "confirmed": sum(1 for r in outbox.values() if r["state"] == "confirmed"),
        "rejected": sum(1 for r in outbox.values() if r["state"] == "rejected"),
        "redelivered": replays,
        "lost": len(lost),
        "duplicated": duplicated,
        "unexpected": len(unexpected),
        "mismatched": len(mismatched),
        "stuck": stuck,
        "integrity_kiosk": integrity(kdb),
        "integrity_server": integrity(sdb),
        "examples": (mismatched + [f"lost {r['key']}" for r in lost])[:5],
    }


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    rng = random.Random(args.seed)
    server_port, proxy_port = free_port(), free_port()
    _, slots = setup(work, server_port)
    proxy = Proxy(proxy_port, server_port)
    server = Server(work, server_port)
    kiosk = Kiosk(work, f"http://127.0.0.1:{proxy_port}", slots, args.seed_bug)
    server_kills = round(args.kills * args.server_share)
    events = ["kiosk"] * (args.kills - server_kills) + ["server"] * server_kills
    events += [rng.choice(FAULTS) for _ in range(args.faults)]
    rng.shuffle(events)
    done: Counter[str] = Counter()
    server.start()
    server.wait_ready()
    kiosk.start()
    started = time.monotonic()
    for i, event in enumerate(events):
        time.sleep(rng.uniform(0.3, 1.2))
        if event == "kiosk":
            kiosk.kill()
            kiosk.start()
        elif event == "server":
            server.kill()
            server.start()
        elif event == "down":
            server.kill()
            time.sleep(rng.uniform(1.0, 3.0))
            server.start()
        else:
            proxy.inject(event, rng.uniform(0.3, 1.5))
        done[event] += 1
        if args.verbose and i % 20 == 0:
            print(f"  {i}/{len(events)} events, {time.monotonic() - started:.0f} s", flush=True)
    kiosk.kill()
    proxy.inject("pass", 0)
    server.wait_ready()
    drained = kiosk.drain()
    server.stop()
    result = check(work)
    result.update(events=dict(done), drain_exit=drained, seconds=round(time.monotonic() - started))
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=200, help="kill -9 count, kiosk and server together")
    ap.add_argument("--faults", type=int, default=50, help="network faults and server-down periods")
    ap.add_argument("--server-share", type=float, default=0.15, help="share of the kills aimed at the server")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--seed-bug", choices=["none", "second-tx"], default="none")
    ap.add_argument("--keep", type=Path, default=None, help="keep the databases and logs in this directory")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    args.seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    work = Path(tempfile.mkdtemp(prefix="chaos-"))
    try:
        r = run(args, work)
    finally:
        if args.keep is not None:
            shutil.copytree(work, args.keep, dirs_exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    for example in r["examples"]:
        print(f"  example: {example}")
    ok = r["integrity_kiosk"] == "ok" and r["integrity_server"] == "ok"
    anomalies = r["lost"] + r["duplicated"] + r["unexpected"] + r["mismatched"] + r["stuck"]
    ev = r["events"]
    kills = (
        f"kills={ev.get('kiosk', 0) + ev.get('server', 0)} (kiosk {ev.get('kiosk', 0)}, server {ev.get('server', 0)})"
    )
    faults = " ".join(f"{k}={ev.get(k, 0)}" for k in FAULTS)
    print(
        f"chaos seed={args.seed} bug={args.seed_bug} {kills} faults: {faults} | receipts={r['receipts']} "
        f"ops={r['ops']} confirmed={r['confirmed']} rejected={r['rejected']} redelivered={r['redelivered']} "
        f"in {r['seconds']} s | lost={r['lost']} duplicated={r['duplicated']} mismatched={r['mismatched']} "
        f"stuck={r['stuck']} unexpected={r['unexpected']} integrity_check kiosk={r['integrity_kiosk']} "
        f"server={r['integrity_server']}",
        flush=True,
    )
    return 0 if ok and anomalies == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
