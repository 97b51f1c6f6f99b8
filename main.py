"""Start the kiosk: ``python main.py --demo`` runs it on emulated hardware (see README)."""

import sys

from kiosk_app.main import main

if __name__ == "__main__":
    sys.exit(main())
