"""Look and scale: every size derives from one base pixel size computed from the window height,
so the same layout fills a 1080×1920 kiosk panel or a small test window; elderly mode scales it up."""

from __future__ import annotations

PRIMARY = "#00796B"
PRIMARY_DARK = "#005B50"
ACCENT = "#E65100"
DANGER = "#C62828"
INFO = "#0D47A1"
WARN = "#7A4A00"  # dark amber text: readable on the amber strip (contrast above 7:1)
WARN_BG = "#FFE8A3"
WARN_EDGE = "#F2A900"
BG = "#EEF3F4"
CARD = "#FFFFFF"
TEXT = "#1C2A30"
MUTED = "#5F6F76"
FONT_FAMILY = "Noto Sans CJK SC"


def base_px(height: int, elderly: bool) -> int:
    return max(12, round(height / 48 * (1.25 if elderly else 1.0)))


def stylesheet(b: int) -> str:
    """The whole app's style for base size ``b`` (pixels)."""
    tile = round(b * 3.5)  # the least content height (padding and border come on top): eight must fit
    return f"""
    QWidget {{ font-family: "{FONT_FAMILY}"; font-size: {b}px; color: {TEXT}; }}
    #KioskWindow {{ background: {BG}; }}
    #Header {{ background: {PRIMARY}; }}
    #Header QLabel {{ color: white; font-size: {round(b * 0.95)}px; font-weight: bold; }}
    #Header QPushButton {{ color: white; background: {PRIMARY_DARK}; border: 2px solid white;
        border-radius: {b // 2}px; padding: {b // 4}px {b // 2}px; font-size: {round(b * 0.75)}px; }}
    #Header QPushButton:checked {{ background: {ACCENT}; }}
    #OfflineBanner {{ background: {WARN_BG}; color: {WARN}; border-bottom: 3px solid {WARN_EDGE};
        padding: {b // 5}px {b}px; font-size: {round(b * 0.85)}px; font-weight: bold; }}
    #Banner {{ border-radius: {b // 3}px; padding: {b // 2}px; font-size: {round(b * 0.95)}px; }}
    #Banner[kind="error"] {{ background: #FDECEA; color: {DANGER}; border: 2px solid {DANGER}; }}
    #Banner[kind="info"] {{ background: #E3F2FD; color: {INFO}; border: 2px solid {INFO}; }}
    #Title {{ font-size: {round(b * 1.45)}px; font-weight: bold; }}
    #Title[compact="true"] {{ font-size: {round(b * 1.2)}px; }}
    #Subtitle {{ font-size: {round(b * 0.95)}px; color: {MUTED}; }}
    #Hint {{ font-size: {round(b * 1.1)}px; color: {TEXT}; }}
    #Amount {{ font-size: {round(b * 2.6)}px; font-weight: bold; color: {ACCENT}; }}
    #BigNumber {{ font-size: {round(b * 1.6)}px; font-weight: bold; color: {PRIMARY}; }}
    #Card {{ background: {CARD}; border-radius: {b // 2}px; }}
    #Card QLabel {{ font-size: {round(b * 1.0)}px; }}
    #FieldLabel {{ color: {MUTED}; }}
    QPushButton {{ background: {CARD}; border: 2px solid #C5D3D8; border-radius: {b // 2}px;
        padding: {b // 2}px; min-height: {round(b * 2.2)}px; font-size: {round(b * 1.05)}px; }}
    QPushButton:pressed {{ background: #D7EEEB; }}
    QPushButton:disabled {{ color: #9AA5AA; background: #F2F4F5; }}
    QPushButton#Tile {{ min-height: {tile}px; max-height: {tile * 2}px; font-size: {round(b * 1.35)}px;
        font-weight: bold; border: 3px solid {PRIMARY}; }}
    QPushButton#TileSoon {{ min-height: {tile}px; max-height: {tile * 2}px; font-size: {round(b * 1.2)}px;
        color: {MUTED}; border: 3px dashed #B0BEC5; }}
    #TileTitle {{ font-size: {round(b * 1.4)}px; font-weight: bold; color: {TEXT}; }}
    #TileDetail {{ font-size: {round(b * 0.95)}px; color: {MUTED}; }}
    QPushButton#TileSoon #TileTitle {{ color: {MUTED}; font-weight: normal; }}
    QPushButton#Primary {{ background: {PRIMARY}; color: white; border: none; font-weight: bold;
        min-height: {round(b * 2.6)}px; font-size: {round(b * 1.3)}px; }}
    QPushButton#Choice {{ text-align: left; padding-left: {b}px; }}
    QPushButton#Nav {{ min-width: {b * 6}px; font-size: {round(b * 1.1)}px; font-weight: bold; }}
    QPushButton#Secondary {{ border: 3px solid {PRIMARY}; min-height: {round(b * 2.6)}px; padding: {b // 4}px; }}
    QPushButton#Secondary #TileTitle {{ font-size: {round(b * 1.15)}px; color: {PRIMARY_DARK}; }}
    QPushButton#Secondary #TileDetail {{ font-size: {round(b * 0.9)}px; color: {PRIMARY_DARK}; }}
    QPushButton#Key, QPushButton#KeyOk {{ min-height: {round(b * 2.3)}px; font-size: {round(b * 1.6)}px;
        font-weight: bold; }}
    QPushButton#KeyOk {{ background: {PRIMARY}; color: white; border: none; font-size: {round(b * 1.2)}px; }}
    QPushButton#KeyOk:disabled {{ background: #B7CFCB; color: white; }}
    #PhoneDisplay {{ font-size: {round(b * 1.8)}px; font-weight: bold; color: {TEXT}; background: {CARD};
        border: 2px solid #C5D3D8; border-radius: {b // 2}px; padding: {b // 3}px; }}
    #ConsentPoint {{ font-size: {round(b * 0.9)}px; }}
    #FaceHint {{ font-size: {round(b * 1.5)}px; font-weight: bold; color: {PRIMARY_DARK}; }}
    QProgressBar#Steps {{ max-height: {b // 2}px; }}
    #Footer {{ background: {CARD}; border-top: 2px solid #C5D3D8; }}
    #Countdown {{ color: white; background: {DANGER}; font-weight: bold; font-size: {round(b * 1.05)}px;
        border-radius: {b // 3}px; padding: {b // 2}px; }}
    QProgressBar {{ border: none; background: #D5E3E6; max-height: {b // 3}px; border-radius: {b // 6}px; }}
    QProgressBar::chunk {{ background: {PRIMARY}; }}
    """
