"""``kinfra``: infrastructure commands (numbered docker compose sandboxes of the stack).

Control plane like the rest of ``ktrdr.cli``: no compute imports.
"""
