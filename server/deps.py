"""FastAPI dependencies: the shared objects live on ``app.state`` (set up by ``create_app``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, cast

from fastapi import Depends, Request

from server.crypto import FieldCipher
from server.db import Store
from server.settings import ServerSettings

if TYPE_CHECKING:
    from server.payments.service import PaymentService


def get_db(request: Request) -> Store:
    return cast(Store, request.app.state.db)


def get_cipher(request: Request) -> FieldCipher:
    return cast(FieldCipher, request.app.state.cipher)


def get_settings(request: Request) -> ServerSettings:
    return cast(ServerSettings, request.app.state.settings)


def get_payments(request: Request) -> PaymentService:
    return cast("PaymentService", request.app.state.payments)


DbDep = Annotated[Store, Depends(get_db)]
CipherDep = Annotated[FieldCipher, Depends(get_cipher)]
SettingsDep = Annotated[ServerSettings, Depends(get_settings)]
PaymentsDep = Annotated["PaymentService", Depends(get_payments)]
