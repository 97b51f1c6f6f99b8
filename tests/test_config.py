from pathlib import Path

import pytest

from kiosk_app.config import ConfigError, from_mapping, load

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_config_validates() -> None:
    config = load(ROOT / "config" / "kiosk.toml")
    assert config.idle_timeout_s == 60 and config.idle_warning_s == 10
    assert config.printer.url.startswith("tcp://")
    assert config.data_dir == ROOT / "var"


@pytest.mark.parametrize(
    ("data", "names"),
    [
        ({"kiosk": {"idle_timeout": 60}}, "kiosk.idle_timeout: unknown key"),
        ({"kiosk": {"idle_timeout_s": "60"}}, "kiosk.idle_timeout_s: must be an integer"),
        ({"kiosk": {"idle_timeout_s": 5}}, "kiosk.idle_timeout_s"),
        ({"kiosk": {"language": "fr"}}, "kiosk.language: must be one of zh_CN, en"),
        ({"server": {"url": "ftp://x"}}, "server.url"),
        ({"devices": {"printer": {"url": "lpt://1"}}}, "devices.printer.url: unknown device URL scheme"),
        ({"devices": {"printer": {"url": "tcp://host-without-port"}}}, "devices.printer.url"),
        ({"devices": {"fax": {"url": "tcp://a:1"}}}, "devices.fax: unknown section"),
        ({"kiosk": {"idle_timeout_s": 20, "idle_warning_s": 30}}, "kiosk.idle_warning_s"),
        ({"kiosk": {"elderly_mode": "yes"}}, "kiosk.elderly_mode: must be true or false"),
        ({"diagnostics": {"staff_cards": "abc"}}, "diagnostics.staff_cards: must be a list"),
    ],
)
def test_bad_config_names_the_key(data: dict, names: str) -> None:
    with pytest.raises(ConfigError) as err:
        from_mapping(data)
    assert names in str(err.value)


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "k.toml"
    bad.write_text("[kiosk\nid=1", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(bad)
    with pytest.raises(ConfigError, match="not found"):
        load(tmp_path / "missing.toml")


def test_devices_are_urls_and_options_pass_through() -> None:
    config = from_mapping(
        {"devices": {"printer": {"url": "serial:///dev/ttyS0?baud=19200", "profile": "default-58mm"}}}
    )
    assert config.printer.url == "serial:///dev/ttyS0?baud=19200"
    assert config.printer.options["profile"] == "default-58mm"
    demo = config.with_devices(id_reader="serial:///dev/pts/3", scanner="serial:///dev/pts/4", printer="tcp://a:1")
    assert demo.id_reader.url == "serial:///dev/pts/3" and demo.printer.url == "tcp://a:1"
