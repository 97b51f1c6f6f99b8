"""Qt Linguist translations: English source strings, ``.qm`` files built from ``.ts`` at install."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

log = logging.getLogger(__name__)

TRANSLATIONS = Path(__file__).parent / "translations"
LANGUAGES = ("zh_CN", "en")


class Translations:
    """Holds the installed translators so a language switch can swap them."""

    def __init__(self) -> None:
        self._installed: list[QTranslator] = []
        self.language = "en"

    def uninstall(self) -> None:
        """Remove this kiosk's translators (at shutdown: the application may outlive the kiosk)."""
        app = QCoreApplication.instance()
        if app is not None:
            for tr in self._installed:
                app.removeTranslator(tr)
        self._installed.clear()

    def switch(self, language: str) -> bool:
        """Install ``language``; sends LanguageChange to every widget. False if a .qm is missing."""
        app = QCoreApplication.instance()
        assert app is not None
        for tr in self._installed:
            app.removeTranslator(tr)
        self._installed.clear()
        self.language = language
        if language == "en":
            return True
        ok = True
        app_tr = QTranslator()
        if app_tr.load(f"kiosk_{language}", str(TRANSLATIONS)):
            app.installTranslator(app_tr)
            self._installed.append(app_tr)
        else:
            log.error("translation kiosk_%s.qm not found in %s (run the setup to build it)", language, TRANSLATIONS)
            ok = False
        qt_tr = QTranslator()
        if qt_tr.load(QLocale(language), "qtbase", "_", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
            app.installTranslator(qt_tr)
            self._installed.append(qt_tr)
        return ok
