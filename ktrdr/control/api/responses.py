"""JSON responses for hot read routes, from text rendered once.

A sync route that returns a model makes FastAPI validate it again against its
``response_model`` in a second threadpool hop; polling routes answer with the JSON text
the operations store rendered (and keeps while the row is unchanged) instead. The
``response_model`` still documents the schema, and tests check the text against it.
"""

from __future__ import annotations

from fastapi.responses import Response


def json_text_response(text: str) -> Response:
    """``text``, already the JSON its route's ``response_model`` declares, as the body."""
    return Response(text, media_type="application/json")
