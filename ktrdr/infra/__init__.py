"""Tooling around the product, not the product: the sandbox CLI (``kinfra``), the canary
check, the consistency rules for compose files, and the deploy path on a real Docker
engine (``engine``, ``registry``, ``images``, ``environments``, ``drills``, ``deploy_doc``).
"""
