"""The tour's walk through report printing (screenshots 55-59): the list, paper out mid-report,
the copy printed again without a question, the reprint reason, and the printed report itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from devices.emulators.escpos_decode import decode_escpos
from devices.emulators.printer import render_png
from kiosk_app.features.reports.flow import LIST, REASON

# Bytes of the report the paper lasts for before it runs out (the report is some 2 kB).
PAPER_LEFT = 400


def _button(t: Any, title_en: str) -> Any:
    """The list button of the report titled ``title_en`` (turning pages as a patient would)."""
    screen = t.kiosk.window.screens[LIST]
    for _ in range(20):  # bounded: a Next that does not turn the page must fail the tour, not hang it
        for report, button in zip(screen._items[screen.page * screen._last[1] :], screen.buttons, strict=False):
            if report.title_en == title_en and button.isVisible():
                return button
        if not screen.next_button.isEnabled():
            break
        t.click(screen.next_button)
    raise RuntimeError(f"no report {title_en!r} on the list")


def tour(t: Any) -> Iterator[Any]:
    w, demo = t.kiosk.window, t.demo
    suffix = "" if w.view.language == "zh_CN" else "_en"
    t.click(w.screens["home"].feature_buttons["reports"])
    yield t.at("reports.identify")
    demo.id_reader.place_card(demo.cards["zhangsan"])
    yield t.at(LIST)
    demo.id_reader.remove_card()
    t.shot(f"55_reports_list{suffix}")

    # The paper runs out halfway through the blood count: not counted, offered again as it was.
    demo.printer.fail_mid_job = sum(len(job.raw) for job in demo.printer.jobs) + PAPER_LEFT
    t.click(_button(t, "Complete blood count"))
    yield lambda: t.flow.step == LIST and t.idle() and t.flow.message == "reports.paper_out"
    t.shot(f"56_reports_paper_out{suffix}")
    demo.printer.fail_mid_job = None
    demo.printer.set_state()  # the staff refilled the paper
    t.click(_button(t, "Complete blood count"))
    yield lambda: t.flow.step == LIST and t.idle() and t.flow.message == "reports.printed"
    t.shot(f"57_reports_printed{suffix}")
    job = demo.printer.jobs[-1]
    (t.out / "report_receipt.txt").write_text(job.text, encoding="utf-8")
    render_png(decode_escpos(job.raw), t.out / "59_report_receipt.png")

    # Another copy of a printed report: the patient says why; it prints as a reprint.
    t.click(_button(t, "Complete blood count"))
    yield t.at(REASON)
    t.shot(f"58_reports_reason{suffix}")
    t.click(w.screens[REASON].reason_buttons["lost"])
    yield lambda: t.flow.step == LIST and t.idle() and t.flow.message == "reports.printed"
    t.click(w.home_button)
    yield t.at("home")
