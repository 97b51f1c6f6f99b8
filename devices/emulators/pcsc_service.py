"""Make sure pcscd runs (with the vpcd virtual reader) for tests and the demo.

If pcscd already answers on its socket it is used as it is. Otherwise, when the binary exists and we
are root, ``pcscd --foreground`` is started as our child and we wait until it lists the vpcd
reader(s); ``stop_pcscd()`` ends only a pcscd started here. ``ensure_pcscd`` never raises: it
returns False and logs (and keeps in ``last_reason()``) why not.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from devices.errors import DeviceError

log = logging.getLogger(__name__)

PCSCD_SOCKET = Path("/run/pcscd/pcscd.comm")
VPCD_CONFIG = Path("/etc/reader.conf.d/vpcd")
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
DEFAULT_VPCD_NAME = "Virtual PCD"
DEFAULT_VPCD_PORT = 35963
VPCD_SLOTS = 2  # the Debian vpcd driver opens two slots per entry, on port and port + 1

_lock = threading.Lock()
_child: subprocess.Popen[bytes] | None = None
_child_log: Path | None = None
_last_reason = ""


@dataclass(frozen=True)
class VpcdConfig:
    name: str  # FRIENDLYNAME; pcscd names the slots "<name> 00 00", "<name> 00 01"
    port: int  # CHANNELID: the TCP port of the first slot
    libpath: str

    def reader_name(self, slot: int = 0) -> str:
        return f"{self.name} 00 {slot:02X}"

    def slot_port(self, slot: int = 0) -> int:
        return self.port + slot


def read_vpcd_config(path: Path = VPCD_CONFIG) -> VpcdConfig | None:
    """The vpcd entry of a reader.conf file; None if there is none."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    fields: dict[str, str] = {}
    for line in text.splitlines():
        m = re.match(r"\s*(FRIENDLYNAME|DEVICENAME|LIBPATH|CHANNELID)\s+(.+?)\s*$", line)
        if m:
            fields[m.group(1)] = m.group(2).strip('"')
    if "LIBPATH" not in fields or "vpcd" not in fields["LIBPATH"]:
        return None
    port_text = fields.get("CHANNELID") or fields.get("DEVICENAME", "").rpartition(":")[2]
    try:
        port = int(port_text, 0)
    except ValueError:
        port = DEFAULT_VPCD_PORT
    return VpcdConfig(fields.get("FRIENDLYNAME", DEFAULT_VPCD_NAME), port, fields["LIBPATH"])


def vpcd_driver() -> str | None:
    """Path of the installed vpcd driver, None if the package is missing."""
    config = read_vpcd_config()
    for candidate in ((config.libpath,) if config else ()) + (str(VPCD_DRIVER),):
        if Path(candidate).exists():
            return candidate
    return None


def write_vpcd_config(directory: Path, *, name: str, port: int, filename: str | None = None) -> VpcdConfig:
    """A reader.conf.d entry for one vpcd reader (a private config dir for a pcscd we start)."""
    libpath = vpcd_driver() or str(VPCD_DRIVER)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / (filename or f"vpcd-{port}")).write_text(
        f'FRIENDLYNAME "{name}"\nDEVICENAME /dev/null:0x{port:04X}\nLIBPATH {libpath}\nCHANNELID 0x{port:04X}\n',
        encoding="utf-8",
    )
    return VpcdConfig(name, port, libpath)


def last_reason() -> str:
    """Why the last ``ensure_pcscd`` returned False ("" after a success)."""
    return _last_reason


def owns_pcscd() -> bool:
    """True if the running pcscd is the child started here."""
    with _lock:
        return _child is not None and _child.poll() is None


def list_readers() -> list[str] | None:
    """The readers pcscd lists, None if pcscd does not answer (or pyscard cannot load)."""
    from devices.sscard.pcsc import Context

    try:
        ctx = Context()
    except DeviceError:
        return None
    try:
        return ctx.readers()
    except DeviceError:
        return None
    finally:
        ctx.release()


def _socket_answers() -> bool:
    if not PCSCD_SOCKET.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(str(PCSCD_SOCKET))
        except OSError:
            return False
    return True


def _wait_for_readers(prefix: str | None, timeout_s: float, child: subprocess.Popen[bytes] | None) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child is not None and child.poll() is not None:
            return False
        names = list_readers()
        if names is not None and (prefix is None or any(n.startswith(prefix) for n in names)):
            return True
        time.sleep(0.1)
    return False


def _fail(reason: str) -> bool:
    global _last_reason
    _last_reason = reason
    log.warning("pcscd not available: %s", reason)
    return False


def ensure_pcscd(
    *, config_dir: Path | None = None, reader_prefix: str | None = DEFAULT_VPCD_NAME, timeout_s: float = 10.0
) -> bool:
    """True once pcscd answers and lists a reader whose name starts with ``reader_prefix``.

    ``config_dir`` (a reader.conf.d directory) is used only when pcscd has to be started here.
    """
    global _child, _child_log, _last_reason
    with _lock:
        if _socket_answers() and (_child is None or _child.poll() is None):
            if _wait_for_readers(reader_prefix, timeout_s, None):
                _last_reason = ""
                return True
            return _fail(f"pcscd runs but lists no {reader_prefix!r} reader (installed vpcd after it started?)")
        binary = shutil.which("pcscd") or next(
            (p for p in ("/usr/sbin/pcscd", "/sbin/pcscd") if os.access(p, os.X_OK)), None
        )
        if binary is None:
            return _fail("pcscd is not installed (apt-get install pcscd)")
        if os.geteuid() != 0:
            return _fail("pcscd is not running and only root may start it")
        if reader_prefix is not None and vpcd_driver() is None:
            return _fail("the vpcd driver is not installed (apt-get install vsmartcard-vpcd)")
        fd, log_name = tempfile.mkstemp(prefix="pcscd-", suffix=".log")
        cmd = [binary, "--foreground"] + (["--config", str(config_dir)] if config_dir else [])
        try:
            with os.fdopen(fd, "wb") as log_file:
                child = subprocess.Popen(
                    cmd, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
                )
        except OSError as err:
            return _fail(f"cannot start pcscd: {err}")
        _child, _child_log = child, Path(log_name)
        log.info("started pcscd (pid %d), log %s", child.pid, log_name)
        if _wait_for_readers(reader_prefix, timeout_s, child):
            _last_reason = ""
            return True
        code = child.poll()
    _stop_child()
    tail = _log_tail()
    if code is not None:
        return _fail(f"pcscd exited with {code}: {tail}")
    return _fail(f"pcscd did not list a {reader_prefix!r} reader within {timeout_s:.0f}s: {tail}")


def _log_tail(limit: int = 400) -> str:
    if _child_log is None:
        return ""
    with contextlib.suppress(OSError):
        return _child_log.read_text(errors="replace")[-limit:].strip()
    return ""


def _stop_child(timeout_s: float = 5.0) -> None:
    global _child
    with _lock:
        child, _child = _child, None
    if child is None:
        return
    if child.poll() is None:
        child.terminate()  # SIGTERM: pcscd removes its socket and pid file on the way out
        try:
            child.wait(timeout_s)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout_s)
    log.info("stopped pcscd (pid %d)", child.pid)


def stop_pcscd(timeout_s: float = 5.0) -> None:
    """Stop the pcscd started by ``ensure_pcscd`` (a pcscd we did not start is left alone)."""
    _stop_child(timeout_s)


def free_port_block(size: int = 2, first: int = 36200, last: int = 37000, step: int = 4) -> int:
    """A base port with ``size`` consecutive free loopback ports (vpcd uses one port per slot)."""

    def free(port: int) -> bool:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
            return True

    for base in range(first, last, step):
        if all(free(base + i) for i in range(size)):
            return base
    raise RuntimeError("no free ports for vpcd")


def virtual_reader(name: str = "Kiosk Virtual PCD") -> tuple[VpcdConfig | None, bool]:
    """A vpcd reader behind a running pcscd, for the demo and the self-test.

    Returns (config, started_here): a pcscd already running is used with the system's vpcd entry;
    otherwise pcscd is started here with a private reader.conf.d (call ``stop_pcscd()`` when
    done). ``(None, False)`` when neither works; ``last_reason()`` says why.
    """
    if list_readers() is not None:
        config = read_vpcd_config()
        if config is None or not ensure_pcscd(reader_prefix=config.name):
            _fail("a running pcscd has no vpcd reader (/etc/reader.conf.d/vpcd)")
            return None, False
        return config, False
    directory = Path(tempfile.mkdtemp(prefix="kiosk-reader.conf.d-"))
    config = write_vpcd_config(directory, name=name, port=free_port_block(), filename="kiosk")
    if not ensure_pcscd(config_dir=directory, reader_prefix=config.name):
        return None, False
    return config, True
