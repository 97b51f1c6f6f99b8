"""The tour's walk through 预交金充值 (PNGs 60-64): balance, amount, payment code, result and receipt."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from kiosk_app.features.topup.flow import AMOUNT, BALANCE, DONE, PAY, PrintState


def tour(t: Any) -> Iterator[Any]:
    from devices.emulators.escpos_decode import decode_escpos
    from devices.emulators.printer import render_png
    from kiosk_app.app import load_kiosk_credential, server_client
    from kiosk_app.demo import DEMO_CODES
    from sync.client import ServerError

    k, demo = t.kiosk, t.demo
    card = demo.cards["zhangsan"]
    known = threading.Event()
    errors: list[Exception] = []

    def prepare() -> None:  # network I/O off the Qt thread: the demo patient must have a record
        try:
            with server_client(k.config, load_kiosk_credential(k.config)) as client:
                birth = f"{card.birth[:4]}-{card.birth[4:6]}-{card.birth[6:]}"
                client.identify(card.card_type, card.id_number, card.name, "M" if card.sex == "1" else "F", birth)
        except ServerError as err:  # handed to the tour, which fails with it
            errors.append(err)
        finally:
            known.set()

    threading.Thread(target=prepare, name="tour-topup-prepare", daemon=True).start()
    yield known.is_set
    if errors:
        raise errors[0]
    jobs_before = len(demo.printer.jobs)
    t.click(k.window.screens["home"].feature_buttons["topup"])
    yield t.at("topup.identify")
    demo.id_reader.place_card(card)
    yield lambda: t.flow.step == BALANCE and t.idle()
    demo.id_reader.remove_card()
    t.shot("60_topup_balance_en")
    t.click(k.window.screens[BALANCE].top_up)
    yield t.at(AMOUNT)
    t.shot("61_topup_amount_en")
    t.click(k.window.screens[AMOUNT].preset_buttons[20_000])
    yield t.at(PAY)
    t.shot("62_topup_pay_en")
    demo.scanner.scan(DEMO_CODES["userpaying"])
    yield lambda: t.flow.step == DONE and t.flow.print_state is PrintState.PRINTED
    t.shot("63_topup_done_en")
    k.window.toggle_language()
    yield lambda: True
    t.shot("64_topup_done")
    k.window.toggle_language()
    job = demo.printer.wait_for_jobs(jobs_before + 1, timeout=10)[-1]
    (t.out / "topup_receipt.txt").write_text(job.text, encoding="utf-8")
    render_png(decode_escpos(job.raw), t.out / "topup_receipt.png")
    t.click(k.window.screens[DONE].done)
    yield t.at("home")
