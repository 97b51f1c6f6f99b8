"""Voice prompts: real espeak-ng renders Mandarin and English; a new prompt interrupts the old one;
the kiosk speaks each screen's title and message as the patient moves through a flow."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from kiosk_app.app import Kiosk, build
from kiosk_app.config import Config
from kiosk_app.speech import Speaker, VoiceSettings

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@needs_espeak
@pytest.mark.parametrize(("language", "text"), [("zh_CN", "请将身份证放在读卡器上"), ("en", "Place your ID card")])
def test_espeak_renders_both_languages(tmp_path: Path, language: str, text: str) -> None:
    wav = tmp_path / "prompt.wav"
    speaker = Speaker(VoiceSettings(enabled=True, extra_args=("-w", str(wav))))
    try:
        speaker.say(text, language)
        # A RIFF file with audio in it: more than a header (1 s of 22 kHz 16-bit mono is 44 kB).
        assert wait_for(lambda: wav.exists() and wav.stat().st_size > 20_000)
        assert wav.read_bytes()[:4] == b"RIFF"
    finally:
        speaker.stop()


def test_arguments_follow_language_and_elderly_mode() -> None:
    speaker = Speaker(VoiceSettings(enabled=False))
    assert speaker.argv("你好", "zh_CN", elderly=False)[:5] == ["espeak-ng", "-v", "cmn", "-s", "165"]
    assert speaker.argv("hi", "en", elderly=True)[:5] == ["espeak-ng", "-v", "en", "-s", "130"]
    assert speaker.argv("-x", "en", False)[-2:] == ["--", "-x"]  # text is never taken for an option


def test_a_new_prompt_interrupts_the_one_playing(tmp_path: Path) -> None:
    log = tmp_path / "spoken.txt"
    fake = tmp_path / "fake-espeak"
    # A stand-in that takes 5 s per utterance and records what it was asked to say.
    fake.write_text(
        f"#!{sys.executable}\nimport sys, time\n"
        f"open({str(log)!r}, 'a').write(sys.argv[-1] + '\\n')\ntime.sleep(5)\n"
    )
    fake.chmod(0o755)
    speaker = Speaker(VoiceSettings(enabled=True, command=str(fake)))
    try:
        speaker.say("first", "en")
        assert wait_for(lambda: log.exists() and "first" in log.read_text())
        started = time.monotonic()
        speaker.say("second", "en")
        assert wait_for(lambda: "second" in log.read_text())
        assert time.monotonic() - started < 3  # did not wait for "first" to finish
        assert speaker.spoken == 2 and speaker.interrupted == 1
        speaker.silence()
        assert wait_for(lambda: speaker.interrupted == 2)
    finally:
        speaker.stop()


def test_disabled_or_missing_command_is_silent() -> None:
    assert not Speaker(VoiceSettings(enabled=False)).available
    missing = Speaker(VoiceSettings(enabled=True, command="/nonexistent/espeak"))
    assert not missing.available
    missing.say("hello", "en")  # no thread, no error


class Recorder:
    def __init__(self) -> None:
        self.said: list[tuple[str, str, bool]] = []

    def say(self, text: str, language: str, elderly: bool = False) -> None:
        self.said.append((text, language, elderly))

    def silence(self) -> None:
        self.said.append(("", "", False))


@pytest.fixture
def kiosk(qapp, tmp_path: Path, server, id_reader_emu, scanner_emu, printer_emu) -> Iterator[Kiosk]:
    config = Config(data_dir=tmp_path, server_url=server.base_url).with_devices(
        id_reader=id_reader_emu.url, scanner=scanner_emu.url, printer=printer_emu.url
    )
    server.write_credential(config.kiosk_id, config.credential_path)
    k = build(replace(config, language="zh_CN"), qapp)
    k.window.setFixedSize(720, 1280)
    k.window.show()
    k.start_devices()
    yield k
    k.shutdown()
    qapp.removeEventFilter(k.idle)


def test_the_kiosk_speaks_each_screen(qtbot, kiosk: Kiosk) -> None:
    from kiosk_app.voice import VoicePrompts

    recorder = Recorder()
    prompts = VoicePrompts(kiosk.window, recorder)  # type: ignore[arg-type]  # kept: Qt disconnects it when collected
    kiosk.controller.dispatch(lambda f: f.start())  # registration: identify
    title = kiosk.window.current_screen.title.text()  # type: ignore[attr-defined]
    assert title and recorder.said[-1] == (title, "zh_CN", False)
    kiosk.window.set_elderly(True)
    kiosk.window.toggle_language()
    kiosk.controller.dispatch(lambda f: f.notify("feature.coming_soon"))  # a message joins the title
    text, language, elderly = recorder.said[-1]
    assert language == "en" and elderly and text.startswith("Identify yourself. ") and len(text) > 25
    count = len(recorder.said)
    kiosk.controller.sig_changed.emit()  # nothing new on screen: not repeated
    assert len(recorder.said) == count
    kiosk.controller.wipe()
    assert ("", "", False) in recorder.said[count:]  # the session ended: silenced
    assert prompts.prompt() == "Welcome"  # home: its title, nothing of the session
