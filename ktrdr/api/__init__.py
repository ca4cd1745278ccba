"""The backend: FastAPI under /api/v1 (control plane: no compute imports)."""
