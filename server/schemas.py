"""Shared pieces of the published OpenAPI schema: the error body, documented error responses and
bounded scalar types.

Bounds are not decoration: an integer beyond SQLite's 64-bit INTEGER raises ``OverflowError`` in
the sqlite3 driver, so every id that reaches a query is bounded here and rejected with 422 first.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Path
from pydantic import AfterValidator, BaseModel, Field

# The largest value SQLite stores in an INTEGER column (and the largest rowid).
SQLITE_MAX_INT = 2**63 - 1

# A database row id as it arrives in a body or a path: positive and storable.
RowId = Annotated[int, Field(gt=0, le=SQLITE_MAX_INT)]
RowIdPath = Annotated[int, Path(gt=0, le=SQLITE_MAX_INT)]


class ErrorDetail(BaseModel):
    code: str = Field(description="stable machine-readable code; the kiosk maps it to translated text")
    message: str = Field(description="for logs and operators; never echoes submitted personal data")


class ErrorBody(BaseModel):
    error: ErrorDetail


_DESCRIPTIONS = {
    400: "Malformed request (for example a body that is not valid JSON)",
    404: "Not found",
    409: "Conflict with the current state",
    422: "The request failed validation",
    502: "An upstream party (the insurer, a payment provider) could not answer",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status documented with the project's JSON error body.

    Declaring 422 here also replaces FastAPI's default ``HTTPValidationError`` schema, which is not
    what this server sends (server/errors.py rewrites validation errors).
    """
    return {status: {"model": ErrorBody, "description": _DESCRIPTIONS[status]} for status in statuses}


def _encodable(value: str) -> str:
    # JSON may carry lone surrogates ("\ud800"); they survive json.loads but not str.encode, which
    # the database driver and the field cipher call, so they are rejected here as a 422.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return value


# Free text from a client that ends up in the database or the cipher.
Text = Annotated[str, AfterValidator(_encodable)]


def document_error_body(app: FastAPI) -> None:
    """Make the published schema say what server/errors.py sends for every route, including routes
    that don't declare ``responses=error_responses(...)``: FastAPI documents its own
    ``HTTPValidationError`` for 422, which this server never sends."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, model in (("ErrorDetail", ErrorDetail), ("ErrorBody", ErrorBody)):
            components.setdefault(name, model.model_json_schema(ref_template="#/components/schemas/{model}"))
        error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                answer = operation.get("responses", {}).get("422")
                if answer is not None and "HTTPValidationError" in str(answer.get("content")):
                    answer["content"] = error_content
                    answer["description"] = _DESCRIPTIONS[422]
                if "requestBody" in operation:  # a body that is not JSON at all is 400 malformed_json
                    operation["responses"].setdefault(
                        "400", {"description": _DESCRIPTIONS[400], "content": error_content}
                    )
        if "HTTPValidationError" not in str(schema.get("paths")):
            components.pop("HTTPValidationError", None)
            components.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
