"""The compute plane: series, indicators, fuzzy memberships, features, training, backtests.

numpy, pandas, TA-Lib and torch (the ``ml`` extra). Nothing in the control plane imports
it; workers and ``--local`` CLI runs reach it.
"""
