"""The backend's HTTP API under /api/v1: routers, error handling, middleware, metrics."""
