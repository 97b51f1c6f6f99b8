"""The tour's walk through the cashier window (PNGs 80-89): sign in, a patient's bills in cash, a
refund approved by the supervisor, the end of shift reconciled. Uses the demo server's cashier 1001
(PIN 2580) and supervisor 9001 (PIN 8642) from server/cashier/demo.py and the elder's demo bills."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from kiosk_app.features.cashier import commands as c
from kiosk_app.flows.printing import PrintState


def _type(t: Any, keypad: Any, text: str) -> None:
    for ch in text:
        t.click(keypad.buttons[ch])


def _card_gone(demo: Any) -> Iterator[Any]:
    """The reader reads a card once until it leaves the field: let it see the last one gone."""
    demo.id_reader.remove_card()
    until = time.monotonic() + 0.8
    yield lambda: time.monotonic() > until


def _patient(t: Any, card: Any) -> Iterator[Any]:
    yield from _card_gone(t.demo)
    t.demo.id_reader.place_card(card)
    yield t.at(c.ITEMS)
    t.demo.id_reader.remove_card()


def tour(t: Any) -> Iterator[Any]:
    from devices.emulators.escpos_decode import decode_escpos
    from devices.emulators.printer import render_png

    k, demo, screens = t.kiosk, t.demo, t.kiosk.window.screens
    elder = demo.cards["elder"]
    elderly = k.window.elderly
    k.window.elderly_button.setChecked(False)  # a staff window: the regular sizes
    k.controller.start_feature("cashier")
    yield t.at(c.SIGNIN)
    _type(t, screens[c.SIGNIN].keypad, "1001")
    t.click(screens[c.SIGNIN].keypad.ok_button)
    _type(t, screens[c.SIGNIN].keypad, "2580")
    t.shot("80_cashier_signin_en")
    t.click(screens[c.SIGNIN].keypad.ok_button)
    yield t.at(c.IDENTIFY)
    t.shot("81_cashier_patient_en")

    yield from _patient(t, elder)
    t.shot("82_cashier_items_en")
    if not t.flow.items.bills and not t.flow.items.registrations:
        k.controller.wipe()  # nothing open (another tour paid it): the report still follows
    else:
        t.click(screens[c.ITEMS].insured_button)
        t.click(screens[c.ITEMS].settle_button)
        yield t.at(c.TAKE)
        t.shot("83_cashier_take_en")
        t.click(screens[c.TAKE].channel_buttons["cash"])
        yield t.at(c.CASH)
        due = t.flow.amount_cents
        t.click(screens[c.CASH].exact_button)
        for note in (10000, 20000, 50000, 100000):
            if note >= due:
                k.controller.feature_event("cashier", lambda f, n=note: f.tender(n))
                break
        t.shot("84_cashier_cash_en")
        jobs_before = len(demo.printer.jobs)
        t.click(screens[c.CASH].keypad.ok_button)
        yield lambda: t.flow.step == c.PAID and t.idle() and t.flow.print_state is not PrintState.PRINTING
        t.shot("85_cashier_paid_en")
        job = demo.printer.wait_for_jobs(jobs_before + 1, timeout=10)[-1]
        (t.out / "cashier_receipt.txt").write_text(job.text, encoding="utf-8")
        render_png(decode_escpos(job.raw), t.out / "cashier_receipt.png")
        paid_key = t.flow.settlement.key
        t.click(screens[c.PAID].next_button)
        yield t.at(c.IDENTIFY)

        # Part of it back: the supervisor approves at the window.
        yield from _patient(t, elder)
        t.click(screens[c.ITEMS].refund_button)
        yield t.at(c.REFUND)
        refund = screens[c.REFUND]
        t.click(refund.payments.buttons[paid_key])
        for _ in range(10):
            t.click(refund.keypad.delete_button)
        _type(t, refund.keypad, "10")
        t.click(refund.reason_buttons["overcharged"])
        t.shot("86_cashier_refund_en")
        t.click(refund.keypad.ok_button)
        yield t.at(c.APPROVE)
        approve = screens[c.APPROVE]
        _type(t, approve.keypad, "9001")
        t.click(approve.keypad.ok_button)
        _type(t, approve.keypad, "8642")
        t.shot("87_cashier_approve_en")
        t.click(approve.keypad.ok_button)
        yield lambda: t.flow.step == c.REFUNDED and t.idle() and t.flow.print_state is not PrintState.PRINTING
        t.click(screens[c.REFUNDED].next_button)
    yield t.at(c.IDENTIFY)

    t.click(screens[c.IDENTIFY].end_button)
    yield t.at(c.REPORT)
    t.shot("88_cashier_report_en")
    t.click(screens[c.REPORT].keypad.ok_button)
    yield lambda: t.flow.step == c.CLOSED and t.idle() and t.flow.print_state is not PrintState.PRINTING
    t.shot("89_cashier_closed_en")
    k.window.toggle_language()
    yield lambda: True
    t.shot("89_cashier_closed")
    k.window.toggle_language()
    job = demo.printer.jobs[-1]
    (t.out / "cashier_report.txt").write_text(job.text, encoding="utf-8")
    render_png(decode_escpos(job.raw), t.out / "cashier_report.png")
    t.click(screens[c.CLOSED].done)
    yield t.at(c.SIGNIN)
    k.controller.feature_event("cashier", lambda f: f.leave_window())
    k.window.elderly_button.setChecked(elderly)
    yield t.at("home")
