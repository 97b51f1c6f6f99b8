import ctypes.util
import subprocess
from pathlib import Path

import pytest

from devices.emulators.idcard import demo_photo
from devices.idcard.photo import (
    BMP_SIZE,
    MappedPhotoDecoder,
    NoPhotoDecoder,
    PhotoUnavailable,
    VendorWltDecoder,
    decoder_from_config,
)


def test_without_a_decoder_the_photo_is_unavailable_not_an_error() -> None:
    with pytest.raises(PhotoUnavailable):
        NoPhotoDecoder().decode(demo_photo("x"))
    assert isinstance(decoder_from_config(""), NoPhotoDecoder)


def test_mapped_decoder_hands_back_the_registered_image() -> None:
    d = MappedPhotoDecoder()
    d.register(demo_photo("zhangsan"), b"\xff\xd8jpeg")
    assert d.decode(demo_photo("zhangsan")) == b"\xff\xd8jpeg"
    with pytest.raises(PhotoUnavailable):
        d.decode(demo_photo("someone-else"))


def test_missing_or_wrong_vendor_library_is_a_keyed_error(tmp_path: Path) -> None:
    with pytest.raises(PhotoUnavailable):
        VendorWltDecoder(tmp_path / "libwlt.so").decode(demo_photo("x"))
    libc = ctypes.util.find_library("c")
    assert libc
    with pytest.raises(PhotoUnavailable):  # a library without the entry point
        VendorWltDecoder(libc, symbol="no_such_unpack").decode(demo_photo("x"))
    with pytest.raises(PhotoUnavailable):
        VendorWltDecoder(libc).decode(b"short")


def test_vendor_entry_point_is_called_through_ctypes(tmp_path: Path) -> None:
    """A stand-in library with the vendor's signature proves the ctypes plumbing end to end."""
    src = tmp_path / "fake_wlt.c"
    src.write_text(
        "#include <string.h>\n"
        "int unpack(char *wlt, char *bmp, int save) {\n"
        f"  memset(bmp, 0, {BMP_SIZE}); bmp[0] = 'B'; bmp[1] = 'M'; bmp[2] = wlt[0]; return 1; }}\n",
        encoding="utf-8",
    )
    lib = tmp_path / "libfakewlt.so"
    if subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib), str(src)], check=False).returncode != 0:
        pytest.skip("no C compiler")
    wlt = demo_photo("zhangsan")
    image = VendorWltDecoder(lib).decode(wlt)
    assert len(image) == BMP_SIZE and image[:2] == b"BM" and image[2] == wlt[0]


def test_emulator_hands_over_a_photo_for_the_card_it_serves() -> None:
    from devices.emulators.idcard import IdCardEmulator, sample_cards
    from devices.idcard import read_once

    emu = IdCardEmulator()
    emu.start()
    try:
        card = sample_cards()["elder"]
        emu.place_card(card, photo=b"\xff\xd8\xff\xe0fake-jpeg")
        read = read_once(emu.url, timeout_s=5)
        assert emu.photos.decode(read.photo_wlt) == b"\xff\xd8\xff\xe0fake-jpeg"
    finally:
        emu.stop()
