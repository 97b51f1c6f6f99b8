"""Diagnostics' own style, layered over the app's (``kiosk_app.theme``) and scaled from the same base size."""

from __future__ import annotations

from kiosk_app.theme import ACCENT, CARD, DANGER, INFO, MUTED, PRIMARY, PRIMARY_DARK, TEXT

MONO = '"Noto Sans Mono CJK SC", "DejaVu Sans Mono", monospace'
BORDER = "#C5D3D8"


def stylesheet(b: int) -> str:
    def s(f: float) -> int:
        return max(10, round(b * f))

    return f"""
    QPushButton#Tab {{ min-height: {s(1.9)}px; font-size: {s(0.95)}px; padding: {b // 4}px {b // 3}px; }}
    QPushButton#Tab:checked {{ background: {PRIMARY}; color: white; border-color: {PRIMARY}; font-weight: bold; }}
    QPushButton#Level {{ min-height: {s(1.7)}px; font-size: {s(0.75)}px; padding: {b // 5}px; }}
    QPushButton#Level:checked {{ background: {PRIMARY_DARK}; color: white; border-color: {PRIMARY_DARK};
        font-weight: bold; }}
    QPushButton#Small {{ min-height: {s(1.7)}px; font-size: {s(0.85)}px; padding: {b // 5}px {b // 2}px; }}
    QPushButton#Digit {{ min-height: {s(3.0)}px; font-size: {s(1.7)}px; font-weight: bold; }}
    QPushButton#DigitAction {{ min-height: {s(3.0)}px; font-size: {s(1.05)}px; font-weight: bold; color: {MUTED}; }}
    QPushButton#DigitOk {{ min-height: {s(3.0)}px; font-size: {s(1.2)}px; font-weight: bold;
        background: {PRIMARY}; color: white; border: none; }}
    QPushButton#DigitOk:disabled {{ background: #B0BEC5; color: #ECEFF1; }}
    #PinDots {{ font-size: {s(1.9)}px; color: {TEXT}; background: {CARD}; border: 2px solid {BORDER};
        border-radius: {b // 2}px; min-height: {s(2.6)}px; }}
    #DiagStatus {{ font-size: {s(0.9)}px; padding: {b // 4}px; border-radius: {b // 3}px; }}
    #DiagStatus[kind="error"] {{ background: #FDECEA; color: {DANGER}; border: 2px solid {DANGER}; }}
    #DiagStatus[kind="ok"] {{ background: #E0F2F1; color: {PRIMARY_DARK}; border: 2px solid {PRIMARY}; }}
    #DiagStatus[kind="info"] {{ background: #E3F2FD; color: {INFO}; border: 2px solid {INFO}; }}
    #SettingLabel {{ font-size: {s(0.8)}px; color: {MUTED}; font-weight: bold; }}
    #DiagNote {{ font-size: {s(0.78)}px; color: {MUTED}; }}
    #DeviceCard {{ background: {CARD}; border: 2px solid {BORDER}; border-radius: {b // 2}px; }}
    #DeviceCard QLabel {{ font-size: {s(0.72)}px; }}
    #DeviceCard QLabel#DeviceName {{ font-size: {s(0.98)}px; font-weight: bold; }}
    #DeviceCard QLabel#FieldLabel {{ color: {MUTED}; }}
    #DeviceCard QLabel#FieldValue[level="warn50"] {{ color: {ACCENT}; font-weight: bold; }}
    #DeviceCard QLabel#FieldValue[level="warn80"], #DeviceCard QLabel#FieldValue[level="full"] {{
        color: {DANGER}; font-weight: bold; }}
    #DeviceCard QLabel#TestResult {{ font-size: {s(0.78)}px; }}
    #DeviceCard QLabel#TestResult[kind="ok"] {{ color: {PRIMARY_DARK}; font-weight: bold; }}
    #DeviceCard QLabel#TestResult[kind="error"] {{ color: {DANGER}; font-weight: bold; }}
    #DeviceCard QLabel#Badge {{ color: white; font-weight: bold; font-size: {s(0.78)}px;
        border-radius: {b // 4}px; padding: {b // 8}px {b // 3}px; background: {MUTED}; }}
    #DeviceCard QLabel#Badge[state="ready"] {{ background: {PRIMARY}; }}
    #DeviceCard QLabel#Badge[state="busy"] {{ background: {INFO}; }}
    #DeviceCard QLabel#Badge[state="connecting"] {{ background: {ACCENT}; }}
    #DeviceCard QLabel#Badge[state="unavailable"] {{ background: {DANGER}; }}
    #DeviceCard QLabel#Badge[state="error"] {{ background: {DANGER}; }}
    #LiveInput {{ font-size: {s(0.75)}px; color: {MUTED}; }}
    QPlainTextEdit#LogView, QPlainTextEdit#ReportView {{ font-family: {MONO}; font-size: {s(0.56)}px;
        background: {CARD}; border: 2px solid {BORDER}; border-radius: {b // 4}px; padding: {b // 6}px; }}
    QLineEdit {{ font-size: {s(0.72)}px; padding: {b // 5}px {b // 4}px; min-height: {s(1.5)}px; background: {CARD};
        border: 2px solid {BORDER}; border-radius: {b // 4}px; }}
    QLineEdit[invalid="true"] {{ border-color: {DANGER}; background: #FDECEA; }}
    QScrollArea#DiagScroll {{ background: transparent; border: none; }}
    QScrollArea#DiagScroll > QWidget > QWidget {{ background: transparent; }}
    QScrollBar:vertical {{ width: {s(0.7)}px; background: #DDE6E8; border-radius: {b // 6}px; }}
    QScrollBar::handle:vertical {{ background: #90A4AE; border-radius: {b // 6}px; min-height: {b * 2}px; }}
    QScrollBar::add-line, QScrollBar::sub-line {{ height: 0; }}
    """
