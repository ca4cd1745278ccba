"""Request bodies read with a size limit, decoded as UTF-8 text."""

from __future__ import annotations

from fastapi import HTTPException, Request

from ktrdr.core.errors import InvalidInputError


async def read_text_body(request: Request, limit: int, what: str) -> str:
    """The body as text; 413 once it passes ``limit`` bytes (before reading the rest)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"{what} larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"{what} larger than {limit} bytes")
        chunks.append(chunk)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInputError(
            f"{what} must be UTF-8 text (byte {error.start} is not)", field="body"
        ) from None
