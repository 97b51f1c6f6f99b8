"""``python -m devices.selftest [--emulated] [--config FILE]``: one line per device.

With ``--emulated`` it starts every device's emulator, points the real driver at it and runs
the driver's own self-test plus an end-to-end exercise (a card read, a scan echoed, a test page
printed and decoded, a frame grabbed). Without it, it runs the self-tests against the devices
in the kiosk's TOML config. Exit status 0 only if every device passed.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from devices.base import Device, DeviceKind, SelfTestResult
from devices.errors import DeviceState

Exercise = Callable[[], SelfTestResult]


@dataclass
class Rig:
    device: Device
    exercise: Exercise | None = None  # end-to-end check through the emulator


def _wait(pred: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not pred():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@contextlib.contextmanager
def emulated_rigs() -> Iterator[list[Rig]]:
    """Every emulator started, a real driver on each, all torn down afterwards."""
    from devices.emulators.idcard import IdCardEmulator, sample_cards
    from devices.emulators.printer import PrinterEmulator
    from devices.emulators.scanner import ScannerEmulator
    from devices.idcard import IdCardReader
    from devices.printer import PROFILES, ReceiptPrinter
    from devices.scanner import SerialScanner

    stack = contextlib.ExitStack()
    with stack:
        id_emu = IdCardEmulator()
        id_emu.start()
        stack.callback(id_emu.stop)
        cards: list[object] = []
        reader = IdCardReader(id_emu.url, on_card=cards.append, on_error=lambda e: None, poll_interval=0.1)

        def read_a_card() -> SelfTestResult:
            id_emu.place_card(sample_cards()["zhangsan"])
            ok = _wait(lambda: bool(cards), 5)
            id_emu.remove_card()
            return SelfTestResult.passed("card read") if ok else SelfTestResult.failed("no_card_read")

        scan_emu = ScannerEmulator()
        scan_emu.start()
        stack.callback(scan_emu.stop)
        scans: list[str] = []
        scanner = SerialScanner(scan_emu.url, on_scan=scans.append, on_error=lambda e: None)

        def echo_a_scan() -> SelfTestResult:
            scan_emu.scan("134567890123456780")
            ok = _wait(lambda: scans == ["134567890123456780"], 5)
            return SelfTestResult.passed("scan echoed") if ok else SelfTestResult.failed("no_scan")

        printer_emu = PrinterEmulator()
        printer_emu.start()
        stack.callback(printer_emu.stop)
        printer = ReceiptPrinter(printer_emu.url, PROFILES["default-80mm"], timeout=3)

        def print_a_page() -> SelfTestResult:
            printer.print_test_page()
            (job,) = printer_emu.wait_for_jobs(1, timeout=5)
            ok = "打印测试" in job.text and job.qr == ["KIOSK-PRINTER-TEST"] and job.cut
            return SelfTestResult.passed("test page decoded") if ok else SelfTestResult.failed("bad_test_page")

        rigs = [Rig(reader, read_a_card), Rig(scanner, echo_a_scan), Rig(printer, print_a_page)]
        rigs += _extra_emulated_rigs(stack)
        for rig in rigs:
            stack.callback(rig.device.stop)
        yield rigs


def _extra_emulated_rigs(stack: contextlib.ExitStack) -> list[Rig]:
    """The insurance-card reader and the camera (their emulators need pcscd and a video)."""
    from devices.camera import Camera
    from devices.emulators.camera import CameraEmulator

    cam_emu = CameraEmulator()  # a synthetic clip: no media files needed
    cam_emu.start()
    stack.callback(cam_emu.stop)
    camera = Camera(cam_emu.url)

    def grab_frames() -> SelfTestResult:
        first = camera.wait_frame(3)
        later = camera.wait_frame(3, newer_than=first.seq) if first is not None else None
        if later is None:
            return SelfTestResult.failed("no_frames")
        h, w = later.image.shape[:2]
        return SelfTestResult.passed(f"{w}x{h} frames, {camera.fps:.1f} fps")

    return [Rig(camera, grab_frames), *_insurance_rig(stack)]


def _insurance_rig(stack: contextlib.ExitStack) -> list[Rig]:
    from devices.emulators import pcsc_service
    from devices.emulators.vpcd import VirtualSsCard, sample_cards
    from devices.sscard import InsuranceCardReader

    config, started = pcsc_service.virtual_reader()
    if started:
        stack.callback(pcsc_service.stop_pcscd)
    if config is None:
        print(f"insurance_card: no virtual reader: {pcsc_service.last_reason()}", file=sys.stderr)
        reader = InsuranceCardReader("pcsc://Kiosk Virtual PCD")  # reports itself unavailable
        return [Rig(reader)]
    card = VirtualSsCard(port=config.port)
    card.start()
    stack.callback(card.stop)
    read: list[object] = []
    reader = InsuranceCardReader(f"pcsc://{config.reader_name()}", on_card=read.append)

    def read_a_card() -> SelfTestResult:
        card.insert(next(iter(sample_cards().values())))
        ok = _wait(lambda: bool(read), 10)
        card.remove()
        return SelfTestResult.passed("card read") if ok else SelfTestResult.failed("no_card_read")

    return [Rig(reader, read_a_card)]


def rigs_from_config(path: Path) -> list[Rig]:
    from devices.idcard import IdCardReader
    from devices.printer import PROFILES, ReceiptPrinter
    from devices.scanner import SerialScanner

    conf = tomllib.loads(path.read_text(encoding="utf-8")).get("devices", {})
    rigs = []
    if conf.get("id_reader", {}).get("enabled", True) and "url" in conf.get("id_reader", {}):
        rigs.append(Rig(IdCardReader(conf["id_reader"]["url"], on_card=lambda c: None, on_error=lambda e: None)))
    if conf.get("scanner", {}).get("enabled", True) and "url" in conf.get("scanner", {}):
        rigs.append(Rig(SerialScanner(conf["scanner"]["url"], on_scan=lambda s: None, on_error=lambda e: None)))
    printer = conf.get("printer", {})
    if printer.get("enabled", True) and "url" in printer:
        rigs.append(Rig(ReceiptPrinter(printer["url"], PROFILES[printer.get("profile", "default-80mm")])))
    return rigs


def check(rig: Rig, timeout_s: float) -> tuple[SelfTestResult, DeviceState]:
    device = rig.device
    device.start()
    # Threaded drivers settle on their own; the printer has no thread state until asked.
    _wait(lambda: device.state in (DeviceState.READY, DeviceState.UNAVAILABLE, DeviceState.ERROR), timeout_s)
    result = device.self_test(timeout_s)
    if result.ok and rig.exercise is not None:
        result = rig.exercise()
    return result, device.state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devices.selftest", description=__doc__.splitlines()[0])
    parser.add_argument("--emulated", action="store_true", help="run against the built-in emulators")
    parser.add_argument("--config", type=Path, default=Path("config/kiosk.toml"))
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args(argv)
    failures = 0
    context = emulated_rigs() if args.emulated else contextlib.nullcontext(rigs_from_config(args.config))
    with context as rigs:
        for rig in rigs:
            result, state = check(rig, args.timeout)
            failures += not result.ok
            verdict = "PASS" if result.ok else f"FAIL {result.code}"
            detail = f" ({result.detail})" if result.detail else ""
            print(f"{rig.device.kind.value:<15} {rig.device.identity:<44} {state.value:<12} {verdict}{detail}")
            sys.stdout.flush()
    kinds = {k.value for k in DeviceKind}
    print(f"{len(rigs) - failures} passed, {failures} failed ({len(rigs)} of {len(kinds)} device kinds)")
    # A driver thread that outlives main() would hang the interpreter's exit.
    lingering = [t.name for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if lingering:
        print(f"warning: threads still running: {lingering}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
