"""The tour's walk through 退号 (PNGs 65-69): a paid registration of tomorrow, handed back."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

from kiosk_app.features.refund.flow import CONFIRM, DONE, LIST, PrintState


def tour(t: Any) -> Iterator[Any]:
    from devices.emulators.escpos_decode import decode_escpos
    from devices.emulators.printer import render_png
    from kiosk_app.app import load_kiosk_credential, server_client
    from kiosk_app.demo import DEMO_CODES
    from kiosk_app.features.refund.demo import book_and_pay
    from sync.client import ServerError

    k, demo = t.kiosk, t.demo
    card = demo.cards["zhangsan"]
    booked = threading.Event()
    errors: list[Exception] = []

    def prepare() -> None:  # network I/O: off the Qt thread
        try:
            with server_client(k.config, load_kiosk_credential(k.config)) as client:
                book_and_pay(client, card, DEMO_CODES["success"])
        except (ServerError, RuntimeError) as err:  # handed to the tour, which fails with it
            errors.append(err)
        finally:
            booked.set()

    threading.Thread(target=prepare, name="tour-refund-prepare", daemon=True).start()
    yield booked.is_set
    if errors:
        raise errors[0]
    jobs_before = len(demo.printer.jobs)
    t.click(k.window.screens["home"].feature_buttons["refund"])
    yield t.at("refund.identify")
    yield from _card_gone(demo)
    demo.id_reader.place_card(card)
    yield lambda: t.flow.step == LIST and t.idle() and t.flow.loaded
    demo.id_reader.remove_card()
    t.shot("65_refund_list_en")
    list_screen = k.window.screens[LIST]
    while not any(b.isVisible() and b.isEnabled() for b in list_screen.buttons):
        t.click(list_screen.next_button)  # earlier visits today are past the window: turn the page
        yield lambda: True
    t.click(next(b for b in list_screen.buttons if b.isVisible() and b.isEnabled()))
    yield t.at(CONFIRM)
    t.shot("66_refund_confirm_en")
    t.click(k.window.screens[CONFIRM].button)
    yield lambda: t.flow.step == DONE and t.flow.print_state is PrintState.PRINTED
    t.shot("67_refund_done_en")
    k.window.toggle_language()
    yield lambda: True
    t.shot("68_refund_done")
    k.window.toggle_language()
    job = demo.printer.wait_for_jobs(jobs_before + 1, timeout=10)[-1]
    (t.out / "refund_slip.txt").write_text(job.text, encoding="utf-8")
    render_png(decode_escpos(job.raw), t.out / "refund_slip.png")
    t.click(k.window.screens[DONE].done)
    yield t.at("home")


def _card_gone(demo: Any) -> Iterator[Any]:
    """The reader reads a card once until it leaves the field: let it see the last one gone."""
    demo.id_reader.remove_card()
    until = time.monotonic() + 0.8
    yield lambda: time.monotonic() > until
