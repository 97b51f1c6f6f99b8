"""Device drivers for the kiosk: ID-card reader, scanner, receipt printer (no Qt here)."""
