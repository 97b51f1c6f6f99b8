"""Face capture, liveness and on-device matching (no Qt).

``face.types`` holds the data every part shares, ``face.settings`` the configuration. Models load
lazily and once (``face.models``), never at import, so importing this package costs nothing.
"""
