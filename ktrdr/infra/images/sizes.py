"""Image sizes: on disk (``docker images``) and compressed (the layers a registry stores),
each beside its projection onto python:3.13-slim, the base GitHub builds on."""

from __future__ import annotations

import json
import urllib.request

from ktrdr.infra.images.catalogue import MB, SLIM_COMPRESSED

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


def registry_layers(reference: str) -> list[int]:
    """Compressed layer sizes of ``HOST:PORT/NAME:TAG`` in a plain-HTTP registry."""
    host, _, rest = reference.partition("/")
    name, _, tag = rest.rpartition(":")
    request = urllib.request.Request(
        f"http://{host}/v2/{name}/manifests/{tag}", headers={"Accept": MANIFEST_V2}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        manifest = json.load(response)
    return [int(layer["size"]) for layer in manifest["layers"]]


def compressed_facts(reference: str) -> dict[str, int]:
    """Compressed total, and what the image adds above its base (one imported layer)."""
    layers = registry_layers(reference)
    added = sum(layers[1:])
    return {
        "compressed": sum(layers),
        "added_compressed": added,
        "projected_compressed": added + SLIM_COMPRESSED,
    }


def mb(value: object) -> str:
    return f"{int(value) / MB:7.1f}" if isinstance(value, int) else f"{'-':>7}"


def table(rows: list[dict[str, object]]) -> str:
    """The size table: one row per image, figures in MB (10^6 bytes)."""
    header = (
        f"{'image':44} {'base':24} {'disk':>7} {'added':>7} {'proj.':>7} "
        f"{'gz':>7} {'add.gz':>7} {'proj.gz':>7}  torch"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{row['image']!s:44} {row.get('base_label', '')!s:24} {mb(row.get('disk'))} "
            f"{mb(row.get('added'))} {mb(row.get('projected'))} {mb(row.get('compressed'))} "
            f"{mb(row.get('added_compressed'))} {mb(row.get('projected_compressed'))}  "
            f"{row.get('torch', 'none')}"
        )
    lines.append(
        "disk: `docker images`; added: above the local base; proj.: added + python:3.13-slim "
        "(126 MB on disk, 43 MB gz); gz: layers as the local registry stores them."
    )
    return "\n".join(lines)
