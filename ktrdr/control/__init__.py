"""The control plane: the backend's API, the operations it keeps, and the workers it directs.

Web and database libraries only; never torch, numpy, pandas or TA-Lib (import-linter).
"""
