"""The camera driver: one thread reads frames, keeps only the newest and hands it to subscribers.

Threading contract: subscribers' ``on_frame(frame)`` and state listeners are called **on the camera
thread**. They must not block (the camera waits for them) and must hand the frame over to their own
thread (a Qt queued signal, a queue of size one); a slow subscriber costs the kiosk frames, and one
that raises is logged and counted, never allowed to stop the camera.

Frames are never queued: ``latest()`` is the newest frame or None, and a consumer that falls behind
simply sees a later ``seq``. After ``stop()`` or while the camera is away, ``latest()`` is None, so
nobody processes a stale picture of the previous patient.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from devices.base import Device, DeviceKind, SelfTestResult, StateListener
from devices.camera.errors import CameraBadUrl, CameraEndOfStream, CameraError, CameraTimeout
from devices.camera.frame import Frame, Image, freeze
from devices.camera.sources import Source, make_source
from devices.camera.spec import CameraOptions, CameraSpec, mask_url, parse_camera_url
from devices.errors import DeviceError, DeviceState, DeviceUnavailable

log = logging.getLogger(__name__)

FrameListener = Callable[[Frame], None]

RECONNECT_MIN_S = 0.5  # first reopen after a loss; doubles per failure...
RECONNECT_MAX_S = 2.0  # ...up to this, so a replugged camera is back within ~2 s
FPS_WINDOW_S = 2.0
JOIN_TIMEOUT_S = 5.0  # longer than a stream's read timeout, the longest a read can block
SLOW_SUBSCRIBER_S = 0.02  # a callback slower than this eats into the frame budget
PROBE_S = 1.0  # how long a self-test of a stopped camera watches frames to measure the rate
PROBE_FRAMES = 10


@dataclass(eq=False)
class _Subscriber:
    callback: FrameListener
    failures: int = 0
    warned_slow: bool = False


class _Throttle:
    """Admits frames at no more than ``fps`` (None: all), tolerant of a live camera's jitter."""

    def __init__(self, fps: float | None) -> None:
        self._period = 1.0 / fps if fps else 0.0
        self._due = 0.0

    def admit(self, now: float) -> bool:
        if not self._period:
            return True
        tolerance = self._period / 4
        if now < self._due - tolerance:
            return False
        # The schedule is a grid, so a frame that is a little late does not push the next one back;
        # a frame later than the tolerance restarts the grid, so a backlog never passes as a burst.
        self._due = max(self._due, now - tolerance) + self._period
        return True


class Camera(Device):
    """A camera (or a file or folder standing in for one) as a source of BGR frames.

    Options come from keyword arguments (usually the config file) and are overridden by the URL's
    query: ``fps`` target rate (a file's default is its own rate; a live camera is asked for it and
    faster frames are skipped), ``width``/``height`` (a live camera is asked; file and folder frames
    are scaled), ``loop`` (files and folders, default true).
    """

    kind = DeviceKind.CAMERA

    def __init__(
        self,
        url: str,
        *,
        fps: float | None = None,
        width: int | None = None,
        height: int | None = None,
        loop: bool = True,
        name: str | None = None,
        on_state: StateListener | None = None,
        on_frame: FrameListener | None = None,
    ) -> None:
        # The public url ends up in status reports and logs: never with a stream's password.
        super().__init__(mask_url(url), name=name, on_state=on_state)
        self._spec: CameraSpec | None = None
        self._url_error: CameraBadUrl | None = None
        try:
            self._spec = parse_camera_url(url, CameraOptions(fps, width, height, loop))
        except ValueError as err:
            self._url_error = CameraBadUrl(str(err))
        self._subscribers: tuple[_Subscriber, ...] = ()
        self._sub_lock = threading.Lock()
        self._frame_cond = threading.Condition()
        self._latest: Frame | None = None
        self._stamps: deque[float] = deque(maxlen=int(FPS_WINDOW_S * 240))
        self._seq = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._outage_logged = False
        if on_frame is not None:
            self.subscribe(on_frame)

    # ---- Public API

    @property
    def fps(self) -> float:
        """Frames delivered per second over the last ``FPS_WINDOW_S`` (0 when none are arriving)."""
        now = time.monotonic()
        with self._frame_cond:
            stamps = [t for t in self._stamps if t >= now - FPS_WINDOW_S]
        if len(stamps) < 2 or stamps[-1] == stamps[0]:
            return 0.0
        return (len(stamps) - 1) / (stamps[-1] - stamps[0])

    @property
    def target_fps(self) -> float | None:
        return self._spec.options.fps if self._spec else None

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def latest(self) -> Frame | None:
        """The newest frame, or None if the camera is not delivering. Never blocks."""
        return self._latest

    def wait_frame(self, timeout_s: float, newer_than: int = 0) -> Frame | None:
        """Block (not on the GUI thread) until a frame with ``seq > newer_than`` arrives; None on
        timeout or once ``stop()`` is called."""
        deadline = time.monotonic() + timeout_s
        with self._frame_cond:
            while True:
                frame = self._latest
                if frame is not None and frame.seq > newer_than:
                    return frame
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop.is_set():  # stop() wakes waiters: nothing will come
                    return None
                self._frame_cond.wait(remaining)

    def subscribe(self, on_frame: FrameListener) -> Callable[[], None]:
        """Call ``on_frame(frame)`` on the camera thread for each frame; returns an unsubscriber."""
        with self._sub_lock:
            self._subscribers = (*self._subscribers, _Subscriber(on_frame))
        return lambda: self.unsubscribe(on_frame)

    def unsubscribe(self, on_frame: FrameListener) -> None:
        with self._sub_lock:
            self._subscribers = tuple(s for s in self._subscribers if s.callback != on_frame)

    def start(self) -> None:
        if self.running:
            return
        if self._spec is None:
            # Nothing to retry: the configuration has to change. Reported, never raised.
            err = self._url_error or CameraBadUrl()
            self._record_error(err)
            self._set_state(DeviceState.UNAVAILABLE, err.code)
            log.warning("camera %s: %s", self.url, err.detail)
            return
        self._stop = stop = threading.Event()  # a fresh event: a late old thread keeps its own
        self._set_state(DeviceState.CONNECTING)
        self._thread = threading.Thread(target=self._run, args=(self._spec, stop), name="camera", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        with self._frame_cond:
            self._frame_cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(JOIN_TIMEOUT_S)
            if thread.is_alive():
                # Releasing the capture from here while its read is blocked would crash OpenCV;
                # the thread releases it itself as soon as that read returns.
                log.warning("camera thread did not stop within %.1fs", JOIN_TIMEOUT_S)
        self._forget_frames()
        if thread is not None:
            self._set_state(DeviceState.UNKNOWN, "stopped")

    def self_test(self, timeout_s: float = 5.0) -> SelfTestResult:
        """A fresh frame within ``timeout_s``: reports its size and the measured rate.

        While running it watches the camera thread (the device cannot be opened twice); stopped,
        it opens the source itself for about a second.
        """
        if self._spec is None:
            return SelfTestResult.failed(self._url_error or CameraBadUrl())
        if self.running:
            return self._test_running(timeout_s)
        return self._probe(self._spec, timeout_s)

    # ---- Camera thread

    def _run(self, spec: CameraSpec, stop: threading.Event) -> None:
        delay = RECONNECT_MIN_S
        while not stop.is_set():
            source = make_source(spec, self._count)
            try:
                first = source.open()
            except DeviceError as err:
                source.release()
                self._outage(stop, err)
                if stop.wait(delay):
                    break
                delay = min(delay * 2, RECONNECT_MAX_S)
                continue
            except Exception:  # a bug or an OpenCV surprise: report, keep trying, never die
                source.release()
                log.exception("camera %s: opening failed", self.url)
                self._outage(stop, CameraError("opening failed unexpectedly", code="internal_error"))
                if stop.wait(delay):
                    break
                delay = min(delay * 2, RECONNECT_MAX_S)
                continue
            delay = RECONNECT_MIN_S
            try:
                self._pump(stop, source, first, _Throttle(spec.options.fps))
            except CameraEndOfStream as err:
                self._outage(stop, err)
                stop.wait()  # a file without loop has nothing more to give until stop()
            except DeviceError as err:
                self._outage(stop, err)
                self._count("losses")
            except Exception:
                log.exception("camera %s: capture loop failed", self.url)
                self._outage(stop, CameraError("capture loop failed", code="internal_error"))
            finally:
                source.release()
            if stop.wait(delay):
                break
        log.debug("camera thread for %s ends", self.url)

    def _pump(self, stop: threading.Event, source: Source, first: Image, throttle: _Throttle) -> None:
        if stop.is_set():
            return
        self._outage_logged = False
        self._set_state(DeviceState.READY)
        log.info("camera %s ready: %dx%d, %s", self.url, first.shape[1], first.shape[0],
                 "live" if source.live else f"paced at {source.nominal_fps:.2f} fps")
        image: Image | None = first
        while not stop.is_set():
            if image is not None:
                self._publish(stop, image, throttle)
            image = source.read(stop)

    def _publish(self, stop: threading.Event, image: Image, throttle: _Throttle) -> None:
        now = time.monotonic()
        if not throttle.admit(now):
            self._count("skipped")  # above the target rate: by design, not a drop
            return
        self._seq += 1
        frame = Frame(freeze(image), self._seq, now)
        with self._frame_cond:
            self._latest = frame
            self._stamps.append(now)
            self._frame_cond.notify_all()
        self._count("frames")
        for sub in self._subscribers:
            if stop.is_set():
                return  # stop() was asked for: the owner no longer expects callbacks
            self._deliver(sub, frame)

    def _deliver(self, sub: _Subscriber, frame: Frame) -> None:
        started = time.monotonic()
        try:
            sub.callback(frame)
        except Exception:  # the subscriber's bug must not stop the camera
            sub.failures += 1
            self._count("subscriber_errors")
            if sub.failures == 1 or sub.failures % 1000 == 0:  # once, then rarely: it may fail per frame
                log.exception("camera subscriber %r failed (%d times)", _name(sub.callback), sub.failures)
            return
        spent = time.monotonic() - started
        if spent > SLOW_SUBSCRIBER_S:
            self._count("slow_callbacks")
            if not sub.warned_slow:
                sub.warned_slow = True
                log.warning("camera subscriber %r took %.0f ms: it must hand frames to its own thread",
                            _name(sub.callback), spent * 1000)

    def _outage(self, stop: threading.Event, err: DeviceError) -> None:
        if stop.is_set():
            return  # stopping: not a device problem
        self._forget_frames()
        self._record_error(err)
        state = DeviceState.UNAVAILABLE if isinstance(err, DeviceUnavailable) else DeviceState.ERROR
        self._set_state(state, err.code)
        if not self._outage_logged:  # reopen attempts repeat every 2 s: one warning per outage
            self._outage_logged = True
            log.warning("camera %s %s: %s %s", self.url, state.value, err.code, err.detail)
        else:
            log.debug("camera %s still %s: %s %s", self.url, state.value, err.code, err.detail)

    def _forget_frames(self) -> None:
        with self._frame_cond:
            self._latest = None
            self._stamps.clear()

    # ---- Self-test

    def _test_running(self, timeout_s: float) -> SelfTestResult:
        deadline = time.monotonic() + timeout_s
        current = self._latest
        frame = self.wait_frame(timeout_s, current.seq if current else self._seq)
        if frame is None:
            err = self.last_error if self.state is not DeviceState.READY else None
            return SelfTestResult.failed(err or CameraTimeout(f"no frame within {timeout_s:.1f}s"))
        # One more frame, so the rate is measured over at least one interval.
        self.wait_frame(max(0.0, min(deadline - time.monotonic(), PROBE_S)), frame.seq)
        return SelfTestResult.passed(f"{frame.width}x{frame.height} at {self.fps:.1f} fps")

    def _probe(self, spec: CameraSpec, timeout_s: float) -> SelfTestResult:
        deadline = time.monotonic() + timeout_s
        source = make_source(spec, lambda key, n: None)
        stop = threading.Event()
        try:
            first = source.open()
            stamps = [time.monotonic()]
            until = min(deadline, stamps[0] + PROBE_S)
            while len(stamps) < PROBE_FRAMES and time.monotonic() < until:
                if source.read(stop) is not None:
                    stamps.append(time.monotonic())
        except DeviceError as err:
            return SelfTestResult.failed(err)
        except Exception as err:  # an OpenCV surprise is a failed test, not a crash of the caller
            log.exception("camera %s: self-test failed unexpectedly", self.url)
            return SelfTestResult.failed("internal_error", type(err).__name__)
        finally:
            source.release()
        if time.monotonic() > deadline and len(stamps) < 2:
            return SelfTestResult.failed(CameraTimeout(f"fewer than two frames within {timeout_s:.1f}s"))
        fps = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0
        return SelfTestResult.passed(f"{first.shape[1]}x{first.shape[0]} at {fps:.1f} fps")


def _name(callback: object) -> str:
    return str(getattr(callback, "__qualname__", None) or callback)
