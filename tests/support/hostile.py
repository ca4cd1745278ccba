"""Hostile inputs shared by the tests and the benchmark that measures their cost."""

from __future__ import annotations


def alias_bomb() -> str:
    """A YAML document of about 1.4 kB whose aliases expand to 9**9 values ("billion laughs")."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for index in range(8):
        name, previous = chr(98 + index), chr(97 + index)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "\n".join([*lines, "name: bomb"]) + "\n"
