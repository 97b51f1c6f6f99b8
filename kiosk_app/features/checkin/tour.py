"""The tour's walk through appointment check-in (screenshots 40-44): today's bookings (one open,
one prepaid, one too early), confirm, pay the fee, the queue number, and the slip itself.

Needs the demo server's bookings (``python -m server --demo-patients``, kiosk_app/demo.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from devices.emulators.escpos_decode import decode_escpos
from devices.emulators.printer import render_png
from kiosk_app.demo import DEMO_CODES
from kiosk_app.features.checkin.flow import CONFIRM, DONE, LIST, PAY, PrintState


def tour(t: Any) -> Iterator[Any]:
    w, demo = t.kiosk.window, t.demo
    suffix = "" if w.view.language == "zh_CN" else "_en"
    t.click(w.screens["home"].feature_buttons["checkin"])
    yield t.at("checkin.identify")
    demo.id_reader.place_card(demo.cards["zhangsan"])
    yield t.at(LIST)
    demo.id_reader.remove_card()
    t.shot(f"40_checkin_list{suffix}")

    screen = w.screens[LIST]
    due = [b for b, a in zip(screen.buttons, screen._items, strict=False) if a.checkin == "open" and not a.prepaid]
    if not due:
        raise RuntimeError("no booking open for check-in: is the demo server started with --demo-patients?")
    t.click(due[0])
    yield t.at(CONFIRM)
    t.shot(f"41_checkin_confirm{suffix}")
    t.click(w.screens[CONFIRM].button)
    yield t.at(PAY)
    t.shot(f"42_checkin_pay{suffix}")
    jobs = len(demo.printer.jobs)
    demo.scanner.scan(DEMO_CODES["success"])
    yield lambda: t.flow.step == DONE and t.flow.print_state is PrintState.PRINTED
    t.shot(f"43_checkin_done{suffix}")
    slip = demo.printer.wait_for_jobs(jobs + 1, timeout=10)[-1]
    (t.out / "checkin_slip.txt").write_text(slip.text, encoding="utf-8")
    render_png(decode_escpos(slip.raw), t.out / "44_checkin_slip.png")
    t.click(w.screens[DONE].done)
    yield t.at("home")
