"""Stored models: where they live and what their metadata says (no torch)."""
