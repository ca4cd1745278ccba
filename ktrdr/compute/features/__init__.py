"""From bars to network inputs and labels (compute: numpy and pandas)."""
