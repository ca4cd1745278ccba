"""The seed's module names for model storage; training itself is :mod:`ktrdr.compute.training`.

Importing this package loads no torch.
"""
