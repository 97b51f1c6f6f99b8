"""The tour's walk through bill payment (PNGs 45-54).

English, elderly mode first: 张三 shows the insurance e-voucher, sees three open bills, leaves the
chest X-ray for later, sees the insurance and self-pay shares, pays by a WeChat QR drawn on the
screen (the "phone" scans, then pays it). Then in Chinese: the X-ray alone, an Alipay QR cancelled,
a refused payment code, a good one. The receipts go beside the PNGs as text and PNG.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from kiosk_app.features.bills.flow import LIST, PAY, PRESETTLE, QR, RESULT, PrintState


def tour(t: Any) -> Iterator[Any]:
    from devices.emulators.escpos_decode import decode_escpos
    from devices.emulators.printer import render_png
    from kiosk_app.demo import DEMO_CODES

    k, demo = t.kiosk, t.demo
    w = k.window
    token: list[str] = []
    yield _off_thread(lambda: token.append(demo.identity_code("zhangsan", "evoucher")), token)
    t.click(w.screens["home"].feature_buttons["bills"])
    yield t.at("bills.identify")
    demo.scanner.scan(token[0])
    yield lambda: t.flow.step == LIST and t.idle() and t.flow.loaded
    if len(t.flow.bills) < 2:
        raise RuntimeError("the demo patient has no open bills: start the demo server with --demo-patients")
    t.shot("45_bills_list_en")
    imaging = next(b for b in w.screens[LIST].buttons if b.isVisible() and "Imaging" in b.text())
    t.click(imaging)
    yield lambda: True
    t.shot("46_bills_selected_en")
    t.click(w.screens[LIST].pay_button)
    yield t.at(PRESETTLE)
    t.shot("47_bills_presettle_en")
    t.click(w.screens[PRESETTLE].wechat_button)
    yield _showing_qr(t)
    t.shot("48_bills_qr_en")
    code_url, done = t.flow.qr.code_url, []
    yield _off_thread(lambda: done.append(_phone(demo, "wechat", "scan", code_url)), done)
    yield lambda: t.flow.message == "pay.userpaying"
    t.shot("49_bills_qr_scanned_en")
    jobs_before = len(demo.printer.jobs)
    done.clear()
    yield _off_thread(lambda: done.append(_phone(demo, "wechat", "pay", code_url)), done)
    yield lambda: t.flow.step == RESULT and t.flow.print_state is PrintState.PRINTED
    t.shot("50_bills_paid_en")
    _save_receipt(demo, jobs_before, t.out, decode_escpos, render_png)
    t.click(w.screens[RESULT].done)
    yield t.at("home")

    # In Chinese, standard size: what is left, a cancelled QR, a refused code, a good one.
    w.toggle_language()
    w.elderly_button.click()
    t.click(w.screens["home"].feature_buttons["bills"])
    yield t.at("bills.identify")
    yield from _card_gone(demo)
    demo.place_card("zhangsan")
    yield lambda: t.flow.step == LIST and t.idle() and t.flow.loaded
    demo.id_reader.remove_card()
    t.shot("51_bills_list")
    t.click(w.screens[LIST].pay_button)
    yield t.at(PRESETTLE)
    t.click(w.screens[PRESETTLE].alipay_button)
    yield _showing_qr(t)
    t.click(w.screens[QR].cancel_button)
    yield lambda: t.flow.step == PRESETTLE and t.idle() and t.flow.message == "bills.qr_cancelled"
    t.shot("52_bills_qr_cancelled")
    t.click(w.screens[PRESETTLE].code_button)
    yield t.at(PAY)
    demo.scanner.scan(DEMO_CODES["insufficient"])
    yield lambda: t.flow.step == PRESETTLE and t.idle() and t.flow.message.startswith("pay.failed")
    t.shot("53_bills_code_refused")
    t.click(w.screens[PRESETTLE].code_button)
    yield t.at(PAY)
    demo.scanner.scan(DEMO_CODES["success"])
    yield lambda: t.flow.step == RESULT and t.flow.print_state is PrintState.PRINTED
    t.shot("54_bills_paid")
    t.click(w.screens[RESULT].done)
    yield t.at("home")
    # The next walk starts as this one did: English, elderly mode.
    w.toggle_language()
    w.elderly_button.click()
    yield lambda: True


def _phone(demo: Any, provider: str, action: str, code_url: str) -> bool:
    from kiosk_app.features.bills.demo import phone

    return phone(demo.server_url, provider, action, code_url)


def _off_thread(work: Callable[[], None], done: list[Any]) -> Callable[[], bool]:
    """Run network I/O off the Qt thread; the tour waits until it has put its result in ``done``."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except Exception as err:  # noqa: BLE001 - handed to the tour, which fails with it
            errors.append(err)

    thread = threading.Thread(target=run, name="tour-bills", daemon=True)
    thread.start()

    def finished() -> bool:
        if errors:
            raise errors[0]
        return bool(done) or not thread.is_alive()

    return finished


def _showing_qr(t: Any) -> Callable[[], bool]:
    view = t.kiosk.window.screens[QR].code
    return lambda: t.flow.step == QR and t.flow.qr is not None and view.isVisible() and bool(view.text)


def _save_receipt(demo: Any, before: int, out: Any, decode: Any, render: Any) -> None:
    job = demo.printer.wait_for_jobs(before + 1, timeout=10)[-1]
    (out / "bill_receipt.txt").write_text(job.text, encoding="utf-8")
    render(decode(job.raw), out / "bill_receipt.png")


def _card_gone(demo: Any) -> Iterator[Any]:
    """The reader reads a card once until it leaves the field: let it see the last one gone."""
    demo.id_reader.remove_card()
    until = time.monotonic() + 0.8
    yield lambda: time.monotonic() > until
