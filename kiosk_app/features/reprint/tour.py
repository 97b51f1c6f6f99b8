"""The tour's walk through reprint (PNGs 70-74): a recent slip of the demo patient, copied twice, then refused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from kiosk_app.features.reprint.flow import DONE, LIST, PrintState


def tour(t: Any) -> Iterator[Any]:
    k, demo = t.kiosk, t.demo
    jobs_before = len(demo.printer.jobs)
    t.click(k.window.screens["home"].feature_buttons["reprint"])
    yield t.at("reprint.identify")
    yield from _card_gone(demo)
    demo.id_reader.place_card(demo.cards["zhangsan"])
    yield lambda: t.flow.step == LIST and t.idle() and t.flow.loaded
    demo.id_reader.remove_card()
    t.shot("70_reprint_list_en")
    screen = k.window.screens[LIST]
    for copy in (1, 2):
        t.click(next(b for b in screen.buttons if b.isVisible() and b.isEnabled()))
        yield lambda: t.flow.step == DONE and t.flow.print_state is PrintState.PRINTED
        if copy == 1:
            t.shot("71_reprint_done_en")
            job = demo.printer.wait_for_jobs(jobs_before + 1, timeout=10)[-1]
            (t.out / "reprint.txt").write_text(job.text, encoding="utf-8")
        t.click(k.window.back_button)
        yield lambda: t.flow.step == LIST and t.idle()
    t.shot("72_reprint_limit_en")  # that slip now says "ask the staff"
    t.click(k.window.home_button)
    yield t.at("home")


def _card_gone(demo: Any) -> Iterator[Any]:
    """The reader reads a card once until it leaves the field: let it see the last one gone."""
    demo.id_reader.remove_card()
    until = time.monotonic() + 0.8
    yield lambda: time.monotonic() > until
