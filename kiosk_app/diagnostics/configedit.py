"""Device URLs edited in diagnostics, validated by ``kiosk_app.config.validate`` and written back
to the TOML file the kiosk was started with (no Qt; :func:`save_urls` is blocking: call it from a worker).

The file is edited in place, line by line, so its comments survive; if that cannot be done
exactly (an unusual layout), the whole file is rewritten with ``tomli_w`` when it is installed,
else with a small writer. Either way the result is parsed again and must equal what was meant.
The running kiosk keeps its old URLs: a change takes effect at the next start.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kiosk_app.config import SCHEMA, Config, ConfigError, validate

# The device sections whose address can be edited, in display order.
URL_SECTIONS = tuple(s for s in SCHEMA if s.startswith("devices.") and "url" in SCHEMA[s])


def current_urls(config: Config) -> dict[str, str]:
    """``{"devices.id_reader": url, ...}`` as the kiosk runs now."""
    return {s: getattr(config, s.removeprefix("devices.")).url for s in URL_SECTIONS}


def merge(data: Mapping[str, Any], changes: Mapping[str, str]) -> dict[str, Any]:
    """A deep copy of TOML ``data`` with each ``devices.<name>.url`` in ``changes`` set."""
    out: dict[str, Any] = json.loads(json.dumps(data))
    for section, url in changes.items():
        table = out
        for part in section.split("."):
            table = table.setdefault(part, {})
        table["url"] = url
    return out


def check(changes: Mapping[str, str], base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The merged config data, validated; raises ``ConfigError`` naming the bad key."""
    for section in changes:
        if section not in URL_SECTIONS:
            raise ConfigError(f"{section}: not an editable device")
    data = merge(base or {}, changes)
    validate(data)
    return data


def save_urls(path: Path, changes: Mapping[str, str]) -> None:
    """Validate the whole file with ``changes`` applied, then replace it atomically."""
    raw = path.read_text(encoding="utf-8")
    try:
        current = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from err
    wanted = check(changes, current)
    text = edit_in_place(raw, changes)
    if text is None or _parse(text) != wanted:
        text = dumps(wanted)
    if _parse(text) != wanted:  # pragma: no cover - the writers above are tested
        raise ConfigError(f"{path}: could not write the new values exactly")
    tmp = path.with_name(path.name + ".new")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# ---- Writers

_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-]+)\s*\]\s*(#.*)?$")
_URL_LINE = re.compile(r"^(\s*url\s*=\s*)(\"(?:[^\"\\]|\\.)*\"|'[^']*')(\s*(#.*)?)$")


def _string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _parse(text: str) -> dict[str, Any] | None:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def edit_in_place(raw: str, changes: Mapping[str, str]) -> str | None:
    """``raw`` with each section's ``url = …`` line replaced (or added); None if it cannot tell."""
    lines = raw.splitlines()
    todo = dict(changes)
    section = ""
    header_at: dict[str, int] = {}
    for i, line in enumerate(lines):
        m = _HEADER.match(line)
        if m:
            section = m.group(1)
            header_at[section] = i
            continue
        u = _URL_LINE.match(line)
        if u and section in todo:
            lines[i] = f"{u.group(1)}{_string(todo.pop(section))}{u.group(3)}"
    for section, url in list(todo.items()):
        if section in header_at:  # the table exists without a url: add it under the header
            at = header_at[section] + 1
            lines.insert(at, f"url = {_string(url)}")
            header_at = {s: (n + 1 if n >= at else n) for s, n in header_at.items()}
        else:
            lines += ["", f"[{section}]", f"url = {_string(url)}"]
        todo.pop(section)
    return "\n".join(lines) + "\n"


def dumps(data: Mapping[str, Any]) -> str:
    """TOML text for ``data`` (comments are lost): tomli_w if installed, else a small writer."""
    try:
        import tomli_w
    except ImportError:
        return _small_dumps(data)
    return tomli_w.dumps(dict(data))


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return _string(v)
    raise ConfigError(f"cannot write a {type(v).__name__} to the config")


def _small_dumps(data: Mapping[str, Any], prefix: str = "") -> str:
    out: list[str] = []
    scalars = {k: v for k, v in data.items() if not isinstance(v, Mapping)}
    if prefix and scalars:
        out.append(f"[{prefix}]")
    out += [f"{k} = {_value(v)}" for k, v in scalars.items()]
    if out:
        out.append("")
    for k, v in data.items():
        if isinstance(v, Mapping):
            out.append(_small_dumps(v, f"{prefix}.{k}" if prefix else k))
    return "\n".join(out)
