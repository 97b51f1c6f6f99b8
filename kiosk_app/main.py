"""Command line entry: ``python main.py [--demo] [--tour DIR] [--kiosk] [--config FILE] [--role ROLE] [--enroll]``."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk_app.config import Config, ConfigError, load
from kiosk_app.watchdog import Notifier

if TYPE_CHECKING:
    from PySide6.QtCore import QTimer

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
T0 = time.perf_counter()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="kiosk", description="Hospital self-service kiosk")
    p.add_argument("--config", type=Path, default=Path(os.environ.get("KIOSK_CONFIG", ROOT / "config" / "kiosk.toml")))
    p.add_argument("--demo", action="store_true", help="start the central server and emulated devices too")
    p.add_argument("--tour", type=Path, metavar="DIR", help="walk the demo unattended, saving a PNG per screen")
    p.add_argument("--kiosk", action="store_true", help="frameless full screen with the cursor hidden")
    p.add_argument("--language", choices=("zh_CN", "en"))
    p.add_argument("--elderly", action="store_true", help="start in elderly (large text) mode")
    p.add_argument("--role", choices=("lobby", "cashier"), help="lobby self-service (default) or a cashier window")
    p.add_argument("--size", metavar="WxH", help="fixed window size, e.g. 720x1280 (the tour's default)")
    p.add_argument("--exit-after-first-paint", action="store_true", help=argparse.SUPPRESS)
    p.add_argument(
        "--enroll",
        action="store_true",
        help="enroll with the server: print a pairing code, wait for an admin's approval, save the credential",
    )
    p.add_argument("--version", action="store_true")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.version:
        from importlib.metadata import version

        print(f"kiosk {version('hospital-kiosk')}")
        return 0
    if args.tour:
        args.demo = True
        args.size = args.size or "720x1280"
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        config = load(args.config)
    except ConfigError as err:
        print(f"kiosk: configuration error: {err}", file=sys.stderr)
        return 2
    if args.language:
        config = replace(config, language=args.language)
    if args.elderly:
        config = replace(config, elderly_mode=True)
    if args.role:
        config = replace(config, role=args.role)
    if args.enroll:
        return enroll(config)
    return run(config, args)


def enroll(config: Config) -> int:
    """``--enroll``: no Qt; the pairing code goes to the terminal (an admin enters it on the server)."""
    from importlib.metadata import PackageNotFoundError, version

    from sync.enroll import Enrollment, EnrollmentError
    from sync.enroll import enroll as run_enrollment

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        software = version("hospital-kiosk")
    except PackageNotFoundError:
        software = "unknown"
    path = config.credential_path
    # Checked before the pairing code is shown: an approval the kiosk then cannot save is wasted.
    if not _writable_dir(path.parent):
        print(f"kiosk: cannot write the credential to {path.parent}; enroll as root (sudo)", file=sys.stderr)
        return 1
    if path.exists():
        print(f"note: {path} exists; it is replaced once the new enrollment is approved")

    def show(enrollment: Enrollment) -> None:
        print(f"Kiosk {config.kiosk_id} asks to enroll with {config.server_url}")
        print(f"Pairing code: {enrollment.display_code}   (valid until {enrollment.expires_at})")
        print("An admin approves it on the server; waiting...", flush=True)

    try:
        run_enrollment(config.server_url, config.kiosk_id, software, path, show_code=show)
    except EnrollmentError as err:
        print(f"kiosk: enrollment failed: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    print(f"Enrolled. Credential saved to {path}")
    print("A running kiosk reads it when it starts: systemctl restart hospital-kiosk (packaged install)")
    return 0


def _writable_dir(directory: Path) -> bool:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(directory, os.W_OK | os.X_OK)


def start_watchdog(notifier: Notifier) -> QTimer | None:
    """``WATCHDOG=1`` from a timer on the GUI thread at half of ``$WATCHDOG_USEC``: a hung event loop
    stops the pings and systemd restarts the kiosk. None when systemd asked for no watchdog."""
    from PySide6.QtCore import QTimer

    interval = notifier.watchdog_interval_ms
    if interval is None:
        return None
    timer = QTimer()
    timer.timeout.connect(notifier.ping)
    timer.start(interval)
    notifier.ping()
    return timer


def run(config: Config, args: argparse.Namespace) -> int:
    from kiosk_app.logsetup import setup_logging

    if args.demo:
        config = replace(config, data_dir=config.data_dir / ("tour" if args.tour else "demo"))
        if args.tour:
            import shutil

            # A tour is reproducible: the same demo hospital, no slots booked by earlier tours.
            shutil.rmtree(config.data_dir, ignore_errors=True)
    setup_logging(config.data_dir / "log", to_stderr=not args.exit_after_first_paint)

    def excepthook(kind: type[BaseException], value: BaseException, tb: object) -> None:
        # A bug in a slot must be recorded, and must not take the kiosk down in front of a patient.
        log.critical("unhandled exception", exc_info=(kind, value, tb))  # type: ignore[arg-type]

    sys.excepthook = excepthook

    from PySide6.QtCore import QEvent, QObject, Qt, QTimer
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication

    from kiosk_app import theme
    from kiosk_app.app import build

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setFont(QFont(theme.FONT_FAMILY))
    demo = None
    if args.demo:
        from kiosk_app.demo import DemoEnvironment

        demo = DemoEnvironment(config, config.data_dir)
        config = demo.start()
    kiosk = build(
        config,
        app,
        config_path=None if args.demo else args.config,
        photo_decoder=demo.id_reader.photos if demo is not None else None,  # the emulator's stand-in decoder
        extra_features=("cashier",) if args.tour else (),  # the tour also walks the cashier window mode
    )
    window = kiosk.window
    if args.size:
        w, h = (int(v) for v in args.size.lower().split("x"))
        window.setFixedSize(w, h)
    if args.kiosk:
        window.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        app.setOverrideCursor(Qt.CursorShape.BlankCursor)

    class FirstPaint(QObject):
        """Starts devices (and the tour) once the home screen is on the glass."""

        done = False

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and not self.done:
                self.done = True
                ms = (time.perf_counter() - T0) * 1000
                log.info("first paint after %.0f ms", ms)
                if args.exit_after_first_paint:
                    print(f"first_paint_ms={ms:.1f}", flush=True)
                    QTimer.singleShot(0, app.quit)
                else:
                    QTimer.singleShot(0, kiosk.start_devices)
                    notifier.ready()
            return False

    notifier = Notifier()  # systemd (hospital-kiosk.service): READY=1 after the first paint, then the watchdog
    watchdog = start_watchdog(notifier)
    first_paint = FirstPaint()
    window.installEventFilter(first_paint)
    if args.tour:
        from kiosk_app.tour import Tour

        assert demo is not None
        tour = Tour(kiosk, demo, args.tour)
        QTimer.singleShot(0, tour.start)
    elif demo is not None:
        from kiosk_app.demo_panel import DemoPanel

        panel = DemoPanel(demo)
        panel.move(window.x() + window.width() + 20, window.y())
        panel.show()
    if args.kiosk:
        window.showFullScreen()
    else:
        window.show()
    # SIGTERM (systemd stop) and Ctrl-C end the event loop normally, so devices, the demo's
    # emulators and their child processes are shut down rather than orphaned. Python only runs
    # signal handlers between bytecodes, so a timer wakes the interpreter regularly.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: app.quit())
    wake = QTimer()
    wake.start(250)
    wake.timeout.connect(lambda: None)
    rc = app.exec()
    wake.stop()
    if watchdog is not None:
        watchdog.stop()
    notifier.stopping()
    if args.tour:
        rc = tour.exit_code
    kiosk.shutdown()
    if demo is not None:
        demo.stop()
    return rc
