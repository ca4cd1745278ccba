"""JSON responses for hot read routes, serialized once.

A sync route that returns a model makes FastAPI validate it again against its
``response_model`` in a second threadpool hop; polling routes return the model's JSON
directly instead (the ``response_model`` still documents the schema).
"""

from __future__ import annotations

from fastapi.responses import Response
from pydantic import BaseModel


def model_response(model: BaseModel) -> Response:
    """``model`` as the JSON body its route's ``response_model`` declares."""
    return Response(model.model_dump_json(by_alias=True), media_type="application/json")
