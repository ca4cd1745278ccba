"""The ``ktrdr`` command line (control plane: no compute imports)."""
