"""Camera driver against synthetic clips and image folders made here with OpenCV, plus one test on
the real shared clip (skipped when ../shared is absent).

Rates are asserted within ±40 %: this runs on a 2-core machine shared with other test processes,
where a scheduler stall of a few hundred ms in a 2 s window is normal. The unplug (≤ 1 s) and replug
(≤ 3 s) bounds are the issue's acceptance numbers and are asserted as they are.
"""

from __future__ import annotations

import gc
import itertools
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from devices.base import SelfTestResult
from devices.camera import Camera, Frame, parse_camera_url, to_rgb
from devices.emulators.camera import CameraEmulator, make_test_images, make_test_video
from devices.errors import DeviceState

SHARED_CLIP = Path(__file__).resolve().parents[2] / "shared" / "video" / "short_hamilton_clip.mp4"
RATE_TOLERANCE = 0.4


def _wait_for(predicate: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _camera_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "camera" and t.is_alive()]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 s of synthetic video at 20 fps (MJPG/AVI: what opencv-python-headless writes everywhere)."""
    return make_test_video(tmp_path_factory.mktemp("clip") / "clip.avi", frames=40, size=(320, 240), fps=20)


@pytest.fixture
def camera_factory() -> Iterator[Callable[..., Camera]]:
    cameras: list[Camera] = []

    def make(url: str, **kwargs: object) -> Camera:
        cam = Camera(url, **kwargs)  # type: ignore[arg-type]
        cameras.append(cam)
        return cam

    yield make
    for cam in cameras:
        cam.stop()


class _Collector:
    """A subscriber that only stores: what a well-behaved consumer does on the camera thread."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.lock = threading.Lock()

    def on_frame(self, frame: Frame) -> None:
        with self.lock:
            self.frames.append(frame)

    def snapshot(self) -> list[Frame]:
        with self.lock:
            return list(self.frames)


# ---- URLs and helpers ----------------------------------------------------------------------------


def test_camera_urls() -> None:
    assert parse_camera_url("camera://0").index == 0
    dev = parse_camera_url("camera:///dev/video2")
    assert (dev.index, dev.target, dev.is_stream) == (None, "/dev/video2", False)
    f = parse_camera_url("camera:///srv/a%20b.mp4?fps=12.5&loop=false&width=640")
    assert f.target == "/srv/a b.mp4"
    assert (f.options.fps, f.options.loop, f.options.width, f.options.height) == (12.5, False, 640, None)
    # Stream: camera options are taken out, the stream's own query stays exactly as written.
    s = parse_camera_url("camera://rtsp://user:s3cret@10.0.0.9:554/live?fps=10&token=a%2Fb")
    assert s.is_stream and s.target == "rtsp://user:s3cret@10.0.0.9:554/live?token=a%2Fb"
    assert s.options.fps == 10
    assert "s3cret" not in repr(s) and "s3cret" not in s.description
    for bad in ("camera://", "camera://front-door", "camera:///x.mp4?fsp=2", "camera:///x.mp4?fps=0",
                "camera:///x.mp4?loop=maybe", "serial:///dev/ttyS0"):
        with pytest.raises(ValueError):
            parse_camera_url(bad)


def test_stream_password_never_in_status() -> None:
    cam = Camera("camera://rtsp://user:s3cret@10.0.0.9:554/live")
    assert "s3cret" not in cam.url and "s3cret" not in repr(cam.status())


def test_to_rgb_is_a_contiguous_swapped_copy() -> None:
    bgr = np.zeros((4, 6, 3), np.uint8)
    bgr[..., 0] = 255  # pure blue in OpenCV's order
    view = bgr[:, ::2]  # not contiguous on purpose
    rgb = to_rgb(view)
    assert rgb.flags.c_contiguous and rgb.shape == (4, 3, 3)
    assert rgb[0, 0].tolist() == [0, 0, 255]
    assert to_rgb(Frame(bgr, 1, 0.0)).shape == (4, 6, 3)
    assert to_rgb(np.full((2, 2), 7, np.uint8))[0, 0].tolist() == [7, 7, 7]


def test_make_test_video_is_readable(clip: Path) -> None:
    cap = cv2.VideoCapture(str(clip))
    try:
        assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(20)
        assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 40
        ok, image = cap.read()
        assert ok and image.shape == (240, 320, 3)
    finally:
        cap.release()


# ---- Frames --------------------------------------------------------------------------------------


def test_file_frames_arrive_at_the_files_rate(clip: Path, camera_factory: Callable[..., Camera]) -> None:
    got = _Collector()
    cam = camera_factory(f"camera://{clip}", on_frame=got.on_frame)
    cam.start()
    assert cam.wait_frame(3.0) is not None
    time.sleep(2.0)  # past the end of the 2 s clip: it loops
    frames = got.snapshot()
    assert cam.state is DeviceState.READY
    assert cam.fps == pytest.approx(20, rel=RATE_TOLERANCE)
    assert len(frames) == pytest.approx(2.0 * 20, rel=RATE_TOLERANCE)
    assert all(f.image.shape == (240, 320, 3) and f.image.dtype == np.uint8 for f in frames)
    assert [f.seq for f in frames] == list(range(1, len(frames) + 1))
    assert all(b.timestamp > a.timestamp for a, b in itertools.pairwise(frames))
    assert cam.status().counters["frames"] >= len(frames)


def test_latest_keeps_only_the_newest_frame(clip: Path, camera_factory: Callable[..., Camera]) -> None:
    seqs: list[int] = []
    lock = threading.Lock()

    def on_frame(frame: Frame) -> None:  # keeps numbers, not frames, so only the driver holds them
        with lock:
            seqs.append(frame.seq)

    cam = camera_factory(f"camera://{clip}", on_frame=on_frame)
    assert cam.latest() is None
    cam.start()
    first = cam.wait_frame(3.0)
    assert first is not None
    with pytest.raises(ValueError):
        first.image[0, 0] = 0  # shared by every consumer: read-only
    old = weakref.ref(first)
    del first
    assert cam.wait_frame(2.0, newer_than=3) is not None
    gc.collect()
    assert old() is None, "an old frame is still held: the driver is queueing frames"
    with lock:  # the subscriber runs under this lock, so no frame arrives while we compare
        latest = cam.latest()
        assert latest is not None and latest.seq == seqs[-1] == max(seqs)


def test_target_fps_and_size_options(clip: Path, camera_factory: Callable[..., Camera]) -> None:
    cam = camera_factory(f"camera://{clip}?fps=8&width=160")
    cam.start()
    frame = cam.wait_frame(3.0)
    assert frame is not None and (frame.width, frame.height) == (160, 120)
    time.sleep(2.0)
    assert cam.fps == pytest.approx(8, rel=RATE_TOLERANCE)
    assert cam.status().counters["skipped"] > 0  # decoded at 20 fps, delivered at 8


def test_folder_of_images_in_natural_order(tmp_path: Path, camera_factory: Callable[..., Camera]) -> None:
    # Uniform grey levels identify each image; frame_10 must come after frame_9, not after frame_1.
    for i in range(1, 13):
        cv2.imwrite(str(tmp_path / f"frame_{i}.jpg"), np.full((48, 64, 3), i * 15, np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    got = _Collector()
    cam = camera_factory(f"camera://{tmp_path}?fps=25", on_frame=got.on_frame)
    cam.start()
    assert _wait_for(lambda: len(got.snapshot()) >= 14, 4.0)  # a full pass and the start of a loop
    levels = [round(float(f.image.mean()) / 15) for f in got.snapshot()]
    wrap = next(i for i in range(1, len(levels)) if levels[i] < levels[i - 1])
    first_pass = levels[:wrap]
    assert first_pass[0] == 1 and first_pass == sorted(first_pass) and first_pass[-1] == 12
    assert levels[wrap] <= 2  # looped back to the start
    assert cam.fps == pytest.approx(25, rel=RATE_TOLERANCE)


def test_file_without_loop_ends(tmp_path: Path, camera_factory: Callable[..., Camera]) -> None:
    short = make_test_video(tmp_path / "short.avi", frames=10, fps=30)
    cam = camera_factory(f"camera://{short}?loop=false")
    cam.start()
    assert _wait_for(lambda: cam.state is DeviceState.UNAVAILABLE, 3.0)
    assert cam.reason == "camera_end_of_stream"
    counters = cam.status().counters
    assert counters["frames"] + counters.get("dropped", 0) == 10
    assert cam.latest() is None


def test_subscriber_exception_does_not_kill_the_thread(
    clip: Path, camera_factory: Callable[..., Camera], caplog: pytest.LogCaptureFixture
) -> None:
    def broken(frame: Frame) -> None:
        raise RuntimeError("consumer bug")

    got = _Collector()
    cam = camera_factory(f"camera://{clip}", on_frame=broken)
    cam.subscribe(got.on_frame)
    with caplog.at_level(logging.ERROR, logger="devices.camera.capture"):
        cam.start()
        assert _wait_for(lambda: len(got.snapshot()) >= 10, 3.0)
    assert cam.state is DeviceState.READY and len(_camera_threads()) == 1
    assert cam.status().counters["subscriber_errors"] >= 10
    # Logged once with its traceback, then counted: a per-frame failure must not flood the log.
    assert len([r for r in caplog.records if "consumer bug" in (r.exc_text or "")]) == 1


def test_unsubscribe(clip: Path, camera_factory: Callable[..., Camera]) -> None:
    got = _Collector()
    cam = camera_factory(f"camera://{clip}")
    unsubscribe = cam.subscribe(got.on_frame)
    cam.start()
    assert _wait_for(lambda: len(got.snapshot()) >= 2, 3.0)
    unsubscribe()
    count = len(got.snapshot())
    latest = cam.latest()
    assert cam.wait_frame(2.0, newer_than=(latest.seq if latest else 0) + 3) is not None
    assert len(got.snapshot()) <= count + 1  # at most the frame being delivered while we unsubscribed


# ---- Unplug, replug, failures --------------------------------------------------------------------


def test_unplug_and_replug_within_the_issues_bounds(clip: Path, camera_factory: Callable[..., Camera]) -> None:
    changes: list[tuple[DeviceState, str, float]] = []
    with CameraEmulator(clip) as emu:
        # Listeners run on the camera thread right after the change: the most exact clock there is.
        cam = camera_factory(emu.url)
        cam.add_state_listener(lambda s: changes.append((s, cam.reason, time.monotonic())))
        cam.start()
        assert _wait_for(lambda: cam.state is DeviceState.READY, 3.0)
        assert cam.wait_frame(3.0) is not None
        [thread] = _camera_threads()

        unplugged_at = time.monotonic()
        emu.unplug()
        assert _wait_for(lambda: cam.state is DeviceState.UNAVAILABLE, 2.0)
        _, reason, lost_at = next(c for c in changes if c[0] is DeviceState.UNAVAILABLE)
        assert lost_at - unplugged_at <= 1.0
        assert reason == "camera_lost"
        assert cam.latest() is None  # no stale picture while the camera is away

        time.sleep(2.5)  # long enough for the reopen back-off to reach its 2 s ceiling
        replugged_at = time.monotonic()
        emu.replug()
        assert _wait_for(lambda: cam.state is DeviceState.READY, 4.0)
        state, _, back_at = changes[-1]
        assert state is DeviceState.READY
        assert back_at - replugged_at <= 3.0
        assert cam.wait_frame(2.0) is not None
        assert _camera_threads() == [thread]  # recovered by the same thread: no restart
        assert cam.status().counters["losses"] == 1
    print(f"unplug noticed in {lost_at - unplugged_at:.3f}s, replug in {back_at - replugged_at:.3f}s")


@pytest.mark.parametrize("url", ["camera://", "camera://front-door", "camera:///x.mp4?fsp=2", "camera:///x?fps=-1"])
def test_bad_url_is_unavailable_not_an_exception(url: str) -> None:
    cam = Camera(url)
    cam.start()
    assert cam.state is DeviceState.UNAVAILABLE and cam.reason == "camera_bad_url"
    assert not _camera_threads()  # nothing to retry until the configuration changes
    result = cam.self_test(timeout_s=1.0)
    assert not result.ok and result.code == "camera_bad_url"
    cam.stop()


@pytest.mark.parametrize("url", ["camera://9", "camera:///nonexistent/camera.mp4"])
def test_missing_device_is_unavailable_with_reason(url: str, camera_factory: Callable[..., Camera]) -> None:
    if url == "camera://9" and os.path.exists("/dev/video9"):
        pytest.skip("this machine has a /dev/video9")
    cam = camera_factory(url)
    started = time.monotonic()
    cam.start()
    assert _wait_for(lambda: cam.state is DeviceState.UNAVAILABLE, 1.0)
    assert time.monotonic() - started <= 1.0
    assert cam.reason == "camera_unavailable"
    assert cam.last_error is not None and cam.last_error.tr_key == "device.unavailable"
    assert _wait_for(lambda: cam.status().counters.get("errors", 0) >= 2, 2.0)  # it keeps trying


def test_device_appearing_later_is_picked_up(tmp_path: Path, clip: Path, camera_factory: Callable[..., Camera]) -> None:
    path = tmp_path / "later.avi"
    cam = camera_factory(f"camera://{path}")
    cam.start()
    assert _wait_for(lambda: cam.state is DeviceState.UNAVAILABLE, 1.0)
    os.symlink(clip, path)
    assert _wait_for(lambda: cam.state is DeviceState.READY, 3.0)


def test_self_test(clip: Path, tmp_path: Path, camera_factory: Callable[..., Camera]) -> None:
    cam = camera_factory(f"camera://{clip}")
    stopped: SelfTestResult = cam.self_test(timeout_s=3.0)  # opens the file itself
    assert stopped.ok and "320x240" in stopped.detail and "fps" in stopped.detail
    assert not _camera_threads()
    cam.start()
    running = cam.self_test(timeout_s=3.0)  # watches the running thread
    assert running.ok and running.detail.startswith("320x240 at ")
    fps = float(running.detail.split(" at ")[1].split()[0])
    assert fps == pytest.approx(20, rel=RATE_TOLERANCE)

    missing = camera_factory(f"camera://{tmp_path / 'missing.avi'}").self_test(timeout_s=1.0)
    assert not missing.ok and missing.code == "camera_unavailable"
    junk = tmp_path / "junk.avi"
    junk.write_bytes(os.urandom(4096))
    broken = camera_factory(f"camera://{junk}").self_test(timeout_s=1.0)
    assert not broken.ok and broken.code in ("camera_unavailable", "camera_no_frames")


def test_self_test_of_an_unplugged_running_camera_fails(clip: Path, camera_factory: Callable[..., Camera]) -> None:
    with CameraEmulator(clip) as emu:
        cam = camera_factory(emu.url)
        cam.start()
        assert cam.wait_frame(3.0) is not None
        emu.unplug()
        started = time.monotonic()
        result = cam.self_test(timeout_s=1.0)
        assert time.monotonic() - started < 1.5
        assert not result.ok and result.code in ("camera_lost", "camera_unavailable")


def test_stop_leaves_no_thread_and_is_idempotent(clip: Path) -> None:
    cam = Camera(f"camera://{clip}")
    cam.stop()  # before start: harmless
    cam.start()
    assert cam.wait_frame(3.0) is not None
    cam.stop()
    assert not _camera_threads()
    assert cam.latest() is None and cam.state is DeviceState.UNKNOWN and cam.reason == "stopped"
    cam.stop()
    cam.start()  # and it can be started again
    assert cam.wait_frame(3.0) is not None
    cam.stop()
    assert not _camera_threads()


def test_emulator_serves_a_folder(tmp_path: Path, camera_factory: Callable[..., Camera]) -> None:
    make_test_images(tmp_path / "images", count=5, size=(160, 120))
    with CameraEmulator(tmp_path / "images", options={"fps": 20}) as emu:
        assert emu.url.endswith("?fps=20")
        cam = camera_factory(emu.url)
        cam.start()
        frame = cam.wait_frame(3.0)
        assert frame is not None and (frame.width, frame.height) == (160, 120)
        emu.unplug()
        assert _wait_for(lambda: cam.state is DeviceState.UNAVAILABLE, 1.0)
        emu.replug()
        assert _wait_for(lambda: cam.state is DeviceState.READY, 3.0)
    assert not emu.plugged


# ---- The real clip -------------------------------------------------------------------------------


@pytest.mark.skipif(not SHARED_CLIP.exists(), reason="../shared/video is not available")
def test_real_clip_of_faces(camera_factory: Callable[..., Camera]) -> None:
    cam = camera_factory(f"camera://{SHARED_CLIP}")
    cam.start()
    frame = cam.wait_frame(3.0)
    assert frame is not None and frame.image.shape == (360, 640, 3)
    time.sleep(1.5)
    assert cam.fps == pytest.approx(29.97, rel=RATE_TOLERANCE)
    assert to_rgb(frame).shape == (360, 640, 3)
