from devices.base import DeviceKind
from devices.registry import Found, HotplugWatcher, match_usb, probe_id_reader


def test_usb_table_matches_vendor_and_product() -> None:
    bridge = match_usb(0x1A86, 0x7523)
    assert bridge is not None and bridge.kind is None  # a bridge is only a candidate: probe it
    scanner = match_usb(0x0C2E, 0x1234)
    assert scanner is not None and scanner.kind is DeviceKind.SCANNER
    assert match_usb(0xFFFF, 0x0001) is None and match_usb(None, None) is None


def test_probe_tells_an_id_reader_from_anything_else(id_reader_emu, scanner_emu) -> None:
    assert probe_id_reader(id_reader_emu.url)
    assert not probe_id_reader(scanner_emu.url, timeout_s=0.5)  # a port that does not answer SAM frames
    assert not probe_id_reader("serial:///dev/does-not-exist")


def test_hotplug_declares_a_device_gone_only_after_consecutive_misses() -> None:
    reader = Found(DeviceKind.ID_READER, "serial:///dev/serial/by-id/x", "x [1A86:7523]", "probe")
    scans = [[reader], [], [reader], [], [], []]
    added: list[Found] = []
    removed: list[Found] = []
    w = HotplugWatcher(lambda: scans.pop(0), on_added=added.append, on_removed=removed.append, misses=3)
    w.poll()
    assert added == [reader] and w.present == [reader]
    w.poll()
    w.poll()  # one miss, then back: a flicker, not an unplug
    assert removed == [] and added == [reader]
    w.poll()
    w.poll()
    assert removed == []
    w.poll()
    assert removed == [reader] and w.present == []


def test_usb_printers_are_found_by_their_device_node(tmp_path) -> None:
    from devices.registry import discover_usb_printers

    (tmp_path / "lp0").touch()
    (found,) = discover_usb_printers(str(tmp_path / "lp*"))
    assert found.kind is DeviceKind.PRINTER and found.url == f"file://{tmp_path / 'lp0'}"
