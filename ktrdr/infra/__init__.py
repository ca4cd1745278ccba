"""Tooling around the product, not the product: the sandbox CLI (``kinfra``) and the
consistency rules for compose files and images.
"""
