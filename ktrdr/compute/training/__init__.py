"""Training: datasets to a stored model. Importing this package loads no torch."""
