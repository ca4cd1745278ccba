"""The backend's view of its workers: registry, dispatch, supervision (no compute)."""
