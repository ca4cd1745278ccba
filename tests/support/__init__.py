"""Reusable test helpers (a fake backend for workers)."""
