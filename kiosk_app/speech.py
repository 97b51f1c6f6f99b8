"""Voice prompts through espeak-ng (Mandarin and English), one utterance at a time, off the GUI thread.

A kiosk speaks what the screen asks ("请将身份证放在读卡器上"), which elderly and low-vision
patients rely on. A new prompt interrupts the one still playing: the patient has moved on, and a
queue of stale prompts would talk over the screen. espeak-ng is a process per utterance (about
40 ms to start), so the GUI thread only hands text to a worker. No Qt here.

espeak-ng exits 0 even when it cannot open the sound device, so its error output is read: the
first failure is logged once as a warning (kiosk with no speaker attached), later ones quietly.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

VOICES = {"zh_CN": "cmn", "en": "en"}  # espeak-ng voice per UI language


@dataclass(frozen=True)
class VoiceSettings:
    enabled: bool = False  # the shipped config/kiosk.toml turns it on; tests and tools stay quiet
    command: str = "espeak-ng"
    rate_wpm: int = 165
    elderly_rate_wpm: int = 130  # slower in elderly mode
    volume: int = 120  # espeak-ng amplitude, 0-200
    extra_args: tuple[str, ...] = field(default_factory=tuple)  # e.g. ("-w", "/tmp/prompt.wav") in tests


Popen = Callable[..., subprocess.Popen[bytes]]


class Speaker:
    """Speaks the latest prompt; :meth:`say` never blocks."""

    def __init__(self, settings: VoiceSettings, popen: Popen = subprocess.Popen) -> None:
        self.settings = settings
        self._popen = popen
        self._wake = threading.Condition()
        self._pending: list[str] | None = None
        self._stopping = False
        self._warned = False
        self.spoken = 0  # utterances started (diagnostics, tests)
        self.interrupted = 0
        self.available = settings.enabled and shutil.which(settings.command) is not None
        if settings.enabled and not self.available:
            log.warning("voice prompts are on but %s is not installed: the kiosk stays silent", settings.command)
        self._thread: threading.Thread | None = None
        if self.available:
            self._thread = threading.Thread(target=self._run, name="voice", daemon=True)
            self._thread.start()

    def argv(self, text: str, language: str, elderly: bool) -> list[str]:
        s = self.settings
        rate = s.elderly_rate_wpm if elderly else s.rate_wpm
        voice = VOICES.get(language, "en")
        return [s.command, "-v", voice, "-s", str(rate), "-a", str(s.volume), *s.extra_args, "--", text]

    def say(self, text: str, language: str, elderly: bool = False) -> None:
        if not self.available or not text.strip():
            return
        with self._wake:
            self._pending = self.argv(text, language, elderly)
            self._wake.notify()

    def silence(self) -> None:
        """Stop what is playing (e.g. the session was wiped)."""
        with self._wake:
            self._pending = []
            self._wake.notify()

    def stop(self, timeout: float = 2.0) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout)

    # ---- Worker

    def _next(self, block: bool) -> list[str] | None:
        with self._wake:
            if block:
                while self._pending is None and not self._stopping:
                    self._wake.wait()
            argv, self._pending = self._pending, None
            return argv

    def _run(self) -> None:
        playing: subprocess.Popen[bytes] | None = None
        while not self._stopping:
            argv = self._next(block=playing is None)
            if argv is not None and playing is not None:
                self._end(playing, interrupt=True)
                playing = None
            if argv:
                playing = self._start(argv)
            elif playing is not None:
                try:
                    playing.wait(timeout=0.05)
                except subprocess.TimeoutExpired:
                    continue
                self._end(playing, interrupt=False)
                playing = None
        if playing is not None:
            self._end(playing, interrupt=True)

    def _start(self, argv: Sequence[str]) -> subprocess.Popen[bytes] | None:
        try:
            process = self._popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)  # fmt: skip
        except OSError as err:
            log.warning("voice prompt could not start: %s", err)
            return None
        self.spoken += 1
        return process

    def _end(self, process: subprocess.Popen[bytes], *, interrupt: bool) -> None:
        if interrupt and process.poll() is None:
            process.terminate()
            self.interrupted += 1
        try:
            _, err = process.communicate(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
        if err and b"error" in err.lower() and not interrupt:
            level = logging.DEBUG if self._warned else logging.WARNING
            log.log(level, "voice prompt not heard: %s", err.decode(errors="replace").strip().splitlines()[-1])
            self._warned = True
