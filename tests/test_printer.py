"""ReceiptPrinter against the TCP printer emulator: bytes on the wire, status handling, decoding."""

from __future__ import annotations

import dataclasses
import logging
import random
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from devices.emulators.escpos_decode import decode_escpos, tokenize
from devices.emulators.printer import PrinterEmulator, render_png
from devices.errors import (
    CoverOpen,
    DeviceTimeout,
    DeviceUnavailable,
    PaperOut,
    PrinterOffline,
)
from devices.printer import PROFILES, PrinterProfile, Receipt, ReceiptPrinter, layout
from devices.printer.escpos_printer import build_job, parse_status, qr_native
from devices.printer.receipt import text_width, wrap

P80 = PROFILES["default-80mm"]
P58 = PROFILES["default-58mm"]
PAY_URL = "weixin://wxpay/bizpayurl?pr=AbCd123"

RECEIPT = Receipt(
    "门诊缴费凭证",
    (
        ("姓名", "张*三"),
        ("证件号", "1101**********1234"),
        ("科室", "心血管内科（门诊二楼）"),
        ("金额", "￥128.50"),
        ("说明", "本凭证仅作缴费证明，不作报销凭据：请妥善保管，遗失不补，谢谢合作。"),
    ),
    ("请持本凭证到二楼取药，", "祝您早日康复！"),
    qr=PAY_URL,
    job_id="job-001",
)


@pytest.fixture
def emu() -> Iterator[PrinterEmulator]:
    with PrinterEmulator() as emulator:
        yield emulator


def wait_connections(emu: PrinterEmulator, n: int, timeout: float = 5.0) -> list[bytes]:
    deadline = time.monotonic() + timeout
    while len(emu.connections) < n:
        assert time.monotonic() < deadline, "emulator did not see the connection close"
        time.sleep(0.01)
    return emu.connections


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- layout ---------------------------------------------------------------------------------


@pytest.mark.parametrize("columns", [32, 48])
def test_layout_respects_display_width(columns: int) -> None:
    lines = layout(RECEIPT, columns)
    assert all(text_width(line) <= columns for line in lines)
    assert text_width("张*三") == 5 and text_width("，：￥") == 6
    joined = "".join(lines).replace(" ", "")
    assert "本凭证仅作缴费证明" in joined and "祝您早日康复！" in joined
    # Short rows stay on one line with the value flush right.
    assert any(line.startswith("姓名") and line.endswith("张*三") and text_width(line) == columns
               for line in lines)


def test_wrap_keeps_punctuation_off_line_start() -> None:
    assert wrap("一二三四五，六", 10) == ["一二三四", "五，六"]
    assert wrap("hello world foo", 11) == ["hello world", "foo"]


# --- golden bytes ---------------------------------------------------------------------------


def test_native_qr_golden_bytes() -> None:
    assert qr_native(PAY_URL) == bytes.fromhex(
        "1d286b0400314132 00"
        "1d286b03003143 06"
        "1d286b03003145 31"
        "1d286b2600315030" + PAY_URL.encode().hex() +
        "1d286b0300315130"
    )


def test_job_golden_bytes_sent_to_printer(emu: PrinterEmulator) -> None:
    profile = dataclasses.replace(P80, columns=16)
    receipt = Receipt("缴费", (("金额", "￥1，0：0"),), qr=PAY_URL, job_id="g1")
    ReceiptPrinter(emu.url, profile, timeout=2).print_receipt(receipt)
    (job,) = emu.wait_for_jobs(1)
    expected = bytes.fromhex(
        "1b40 1c26"  # ESC @, FS & (Chinese mode)
        "1b6101 1b4501 1d2111 bdc9b7d1 0a 1d2100 1b4500 1b6100"  # centered bold double 缴费
        + "2d" * 16 + "0a"
        "bdf0b6ee 202020 a3a4 31 a3ac 30 a3ba 30 0a"  # 金额   ￥1，0：0 in GB18030, no '?'
        "1b6101"
    ) + qr_native(PAY_URL) + bytes.fromhex("0a 1b6100 1b6404 1d5600")
    assert job.raw == expected
    assert job.cut and job.qr == [PAY_URL]
    # The status queries went out before and after the job, on the same connection.
    (conn,) = wait_connections(emu, 1)
    assert conn == b"\x10\x04\x01\x10\x04\x02\x10\x04\x04" + expected + b"\x10\x04\x01\x10\x04\x02\x10\x04\x04"


def test_decoding_round_trip(emu: PrinterEmulator) -> None:
    ReceiptPrinter(emu.url, P80, timeout=2).print_receipt(RECEIPT)
    (job,) = emu.wait_for_jobs(1)
    assert "?" not in job.text.replace(PAY_URL, "")  # no character lost to a code page
    flat = job.text.replace("\n", "").replace(" ", "")
    assert RECEIPT.title in flat
    for label, value in RECEIPT.lines:
        assert label in flat and value in flat
    for footer in RECEIPT.footer:
        assert footer in flat
    assert job.qr == [PAY_URL] and PAY_URL in job.text
    decoded = decode_escpos(job.raw)
    title = next(line for line in decoded.lines if line.text == RECEIPT.title)
    assert title.bold and title.width == 2 and title.height == 2 and title.align == 1


def test_raster_qr_for_printer_without_native_qr(emu: PrinterEmulator) -> None:
    ReceiptPrinter(emu.url, P58, timeout=2).print_receipt(RECEIPT)
    (job,) = emu.wait_for_jobs(1)  # no cutter: the job ends when the connection closes
    assert not job.cut and job.qr == []
    assert b"\x1d(k" not in job.raw and b"\x1dv0" in job.raw
    assert "[image 384x" in job.text


def test_emulator_reassembles_commands_split_across_packets(emu: PrinterEmulator) -> None:
    raw, _ = build_job(RECEIPT, P80)
    with socket.create_connection(("127.0.0.1", int(emu.url.rsplit(":", 1)[1])), timeout=2) as s:
        for i in range(len(raw)):
            s.sendall(raw[i : i + 1])
    (job,) = emu.wait_for_jobs(1)
    assert job.raw == raw and job.qr == [PAY_URL]


# --- status ---------------------------------------------------------------------------------


def test_status_ready(emu: PrinterEmulator) -> None:
    st = ReceiptPrinter(emu.url, P80, timeout=2).query_status()
    assert st.known and st.online and not (st.cover_open or st.paper_end or st.paper_near_end)


@pytest.mark.parametrize(
    ("state", "error"),
    [
        ({"paper_end": True}, PaperOut),
        ({"cover_open": True}, CoverOpen),
        ({"offline": True}, PrinterOffline),
        ({"cover_open": True, "paper_end": True}, CoverOpen),
    ],
)
def test_bad_state_refuses_before_printing(emu: PrinterEmulator, state: dict[str, bool],
                                            error: type[Exception]) -> None:
    emu.set_state(**state)
    with pytest.raises(error):
        ReceiptPrinter(emu.url, P80, timeout=2).print_receipt(RECEIPT)
    (conn,) = wait_connections(emu, 1)
    assert conn == b"\x10\x04\x01\x10\x04\x02\x10\x04\x04"  # queries only: not one byte of the job
    assert emu.jobs == []


def test_paper_near_end_still_prints(emu: PrinterEmulator, caplog: pytest.LogCaptureFixture) -> None:
    emu.set_state(paper_near_end=True)
    printer = ReceiptPrinter(emu.url, P80, timeout=2)
    assert printer.query_status().paper_near_end
    with caplog.at_level(logging.WARNING):
        printer.print_receipt(RECEIPT)
    assert len(emu.wait_for_jobs(1)) == 1
    assert "paper near end" in caplog.text


def test_paper_runs_out_mid_job() -> None:
    with PrinterEmulator(fail_mid_job=60) as emu:
        with pytest.raises(PaperOut):
            ReceiptPrinter(emu.url, P80, timeout=2).print_receipt(RECEIPT)
        assert len(emu.wait_for_jobs(1)) == 1


def test_parse_status_rejects_invalid_bytes() -> None:
    assert parse_status(0x12, 0x12, 0x12).known
    assert not parse_status(None, 0x12, 0x12).known


# --- transport failures ---------------------------------------------------------------------


def test_nothing_listening_fails_fast() -> None:
    printer = ReceiptPrinter(f"tcp://127.0.0.1:{free_port()}", P80, timeout=1)
    started = time.monotonic()
    with pytest.raises((PrinterOffline, DeviceUnavailable)) as info:
        printer.print_receipt(RECEIPT)
    assert info.value.__cause__ is not None
    with pytest.raises((PrinterOffline, DeviceUnavailable)):
        printer.query_status()
    assert time.monotonic() - started < 3


def test_silent_printer_times_out_without_printing() -> None:
    with PrinterEmulator(answer_status=False) as emu:
        started = time.monotonic()
        with pytest.raises(DeviceTimeout):
            ReceiptPrinter(emu.url, P80, timeout=0.5).print_receipt(RECEIPT)
        assert time.monotonic() - started < 3
        wait_connections(emu, 1)
        assert emu.jobs == []


def test_status_off_url_option_prints_without_answers(caplog: pytest.LogCaptureFixture) -> None:
    with PrinterEmulator(answer_status=False) as emu, caplog.at_level(logging.INFO):
        ReceiptPrinter(emu.url + "?status=off", P80, timeout=1).print_receipt(RECEIPT)
        assert len(emu.wait_for_jobs(1)) == 1
    assert "status unknown" in caplog.text


def test_write_only_transports_print_with_unknown_status(tmp_path: Path) -> None:
    out = tmp_path / "printer.bin"
    printer = ReceiptPrinter(f"file://{out}", P80)
    assert not printer.query_status().known
    printer.print_receipt(RECEIPT)
    assert out.read_bytes() == build_job(RECEIPT, P80)[0]
    dummy = ReceiptPrinter("dummy://", P80)
    dummy.print_receipt(RECEIPT)
    assert decode_escpos(dummy.dummy_output).qr == [PAY_URL]


def test_missing_serial_device_is_unavailable() -> None:
    with pytest.raises(DeviceUnavailable):
        ReceiptPrinter("serial:///dev/no-such-printer?baud=9600", P80).print_receipt(RECEIPT)


def test_unencodable_characters_never_crash(emu: PrinterEmulator, caplog: pytest.LogCaptureFixture) -> None:
    gbk = PrinterProfile("gbk", columns=48, supports_qr_native=True, supports_cut=True, encoding="gbk")
    receipt = Receipt("测试", (("姓名", "\U00020000*"), ("备注", "bad\ud800")), job_id="enc")
    with caplog.at_level(logging.WARNING):
        ReceiptPrinter(emu.url, gbk, timeout=2).print_receipt(receipt)
    (job,) = emu.wait_for_jobs(1)
    assert "?*" in job.text and "bad?" in job.text
    assert "2 characters not encodable" in caplog.text


# --- decoder and preview --------------------------------------------------------------------


def test_decode_never_raises_on_random_bytes() -> None:
    rng = random.Random(1234)
    interesting = [0x1B, 0x1C, 0x1D, 0x10, 0x0A, 0x28, 0x6B, 0x76, 0x30, 0x56, 0x04]
    for i in range(2000):
        n = rng.randrange(0, 200)
        if i % 2:
            data = bytes(rng.choice(interesting) if rng.random() < 0.4 else rng.randrange(256) for _ in range(n))
        else:
            data = rng.randbytes(n)
        decoded = decode_escpos(data)
        assert isinstance(decoded.text, str)
        tokens, used = tokenize(data, final=False)
        assert used <= len(data) and b"".join(t.raw for t in tokens) == data[:used]


def test_decoder_understands_basic_commands() -> None:
    raw = (b"\x1b@\x1c&\x1ba\x01\x1bE\x01" + "挂号".encode("gb18030") + b"\n\x1b!\x00\x1c.ABC\n"
           b"\x1bd\x02\x10\x04\x01\x1dV\x41\x03")
    d = decode_escpos(raw)
    assert [line.text for line in d.lines][:2] == ["挂号", "ABC"]
    assert d.lines[0].bold and d.lines[0].align == 1
    assert d.status_queries == [1] and d.cut


def test_render_png(emu: PrinterEmulator, tmp_path: Path) -> None:
    ReceiptPrinter(emu.url, P80, timeout=2).print_receipt(RECEIPT)
    (job,) = emu.wait_for_jobs(1)
    path = tmp_path / "receipt.png"
    render_png(decode_escpos(job.raw), path)
    with Image.open(path) as img:
        assert img.format == "PNG" and img.width == 576 and img.height > 300
    raster = tmp_path / "raster.png"
    render_png(decode_escpos(build_job(RECEIPT, P58)[0]), raster, width_px=384)
    with Image.open(raster) as img:
        assert img.format == "PNG"


def test_device_state_follows_the_printer(emu: PrinterEmulator) -> None:
    from devices.errors import DeviceState

    states: list[DeviceState] = []
    printer = ReceiptPrinter(emu.url, P80, timeout=2, on_state=states.append)
    assert printer.state is DeviceState.UNKNOWN  # never asked: unknown, not unavailable
    assert printer.self_test().ok and printer.state is DeviceState.READY
    emu.set_state(paper_end=True)
    result = printer.self_test()
    assert not result.ok and result.code == "paper_out"
    assert printer.state is DeviceState.ERROR and printer.reason == "paper_out"
    emu.set_state(paper_near_end=True)
    assert printer.self_test().ok and printer.reason == "paper_near_end"
    emu.set_state()
    printer.print_test_page()
    (job,) = emu.wait_for_jobs(1)
    assert "打印测试" in job.text and "，。：；！？（）￥" in job.text and job.qr == ["KIOSK-PRINTER-TEST"]
    status = printer.status()
    assert status.counters["jobs"] == 1 and status.last_error_code == "paper_out"
    assert states[:3] == [DeviceState.READY, DeviceState.ERROR, DeviceState.READY]


def test_unreachable_printer_is_unavailable_and_the_poll_thread_stops() -> None:
    import socket

    from devices.errors import DeviceState

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    printer = ReceiptPrinter(f"tcp://127.0.0.1:{port}", P80, timeout=1, poll_interval_s=0.1)
    printer.start()
    try:
        deadline = time.monotonic() + 5
        while printer.state is not DeviceState.UNAVAILABLE and time.monotonic() < deadline:
            time.sleep(0.02)
        assert printer.state is DeviceState.UNAVAILABLE and printer.reason in ("printer_offline", "device_timeout")
        assert not printer.self_test().ok
    finally:
        printer.stop()
