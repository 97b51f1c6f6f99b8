"""The kiosk application: Qt screens over plain-Python flows."""
