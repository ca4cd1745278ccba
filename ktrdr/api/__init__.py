"""The backend's entry points under the names the deployments use.

``from ktrdr.api.main import app`` (the ASGI app) and ``python -m ktrdr.api`` (the server).
The backend itself lives in :mod:`ktrdr.control`.
"""
