"""The patient's phone, for the demo and the tour: scan or pay the QR code the kiosk shows.

The kiosk never talks to these endpoints; they are the providers' sandboxes inside the demo
server standing in for WeChat / Alipay on the patient's phone. Blocking: call off the Qt thread.
"""

from __future__ import annotations

import requests

PHONE_PATHS = {"wechat": "/sandbox/wxpay/test/native/{action}", "alipay": "/sandbox/alipay/test/qr/{action}"}
FIELDS = {"wechat": "code_url", "alipay": "qr_code"}


def phone(server_url: str, provider: str, action: str, code_url: str, timeout: float = 5.0) -> bool:
    """``action`` ``scan`` (opened, confirming) or ``pay``; True when the sandbox took it."""
    if provider not in PHONE_PATHS or action not in ("scan", "pay"):
        raise ValueError(f"unknown provider/action {provider}/{action}")
    url = server_url.rstrip("/") + PHONE_PATHS[provider].format(action=action)
    try:
        resp = requests.post(url, json={FIELDS[provider]: code_url}, timeout=timeout)
    except requests.RequestException:
        return False
    return resp.status_code == 200
