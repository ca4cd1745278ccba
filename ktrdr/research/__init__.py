"""The research domain without the compute stack: strategies, market data, the model registry
and the indicator catalogue. Pure Python (no numpy), so the backend validates, stores and
lists all of it.
"""
