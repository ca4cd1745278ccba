"""``python3 -m ktrdr.infra.images``: build, check and size the ktrdr images.

    python3 -m ktrdr.infra.images build [KIND ...] [--tag test] [--base bookworm|trixie]
    python3 -m ktrdr.infra.images standins          # the PostgreSQL and Prometheus stand-ins
    python3 -m ktrdr.infra.images smoke KIND IMAGE  # the checks GitHub runs before a push
    python3 -m ktrdr.infra.images check [KIND ...]  # build, smoke, start healthy, budgets,
                                                    # push sha-<short> + latest, size table

KIND: backend, worker-cpu, worker-gpu, dev (default: backend worker-cpu dev). ``check
--py313`` also builds the backend on the Debian trixie base (CPython 3.13) and checks it.
"""

from __future__ import annotations

import argparse
import json
import sys

from ktrdr.infra.images import checks, sizes
from ktrdr.infra.images.catalogue import DEFAULT_BUILD, DEFAULT_REGISTRY, IMAGES, PUBLISHED

PY313_TAG = "test-py313"


def _build(
    kinds: list[str], tag: str, suite: str, registry: str = DEFAULT_REGISTRY
) -> dict[str, str]:
    from ktrdr.infra.images import build, standins

    return build.build(kinds, tag=tag, registry=registry, base=standins.BASES[suite])


def check_all(kinds: list[str], py313: bool) -> int:
    from ktrdr.infra import engine, registry
    from ktrdr.infra.images import build, standins

    engine.ensure()
    built = _build(kinds, "test", "bookworm")
    targets = [(kind, ref, standins.DEFAULT_BASE) for kind, ref in built.items()]
    if py313:
        trixie = standins.BASES["trixie"]
        targets.append(("backend", _build(["backend"], PY313_TAG, "trixie")["backend"], trixie))
    reports = []
    for kind, reference, base in targets:
        report = checks.check(kind, reference, standins.build_base(base))
        report.facts["base_label"] = f"{base.suite} (py{base.python})"
        reports.append(report)
    tag = f"sha-{build.revision()}"
    published = [k for k in kinds if k in PUBLISHED]
    pushed = {ref.rsplit(":", 1)[0]: ref for ref in registry.push(tag, published) if tag in ref}
    for report in reports:
        local_name = report.image.rsplit(":", 1)[0].rsplit("/", 1)[-1]
        match = [ref for name, ref in pushed.items() if name.endswith("/" + local_name)]
        if match and report.image.endswith(":test"):
            report.facts.update(sizes.compressed_facts(match[0]))
    rows = [{"image": r.image, **r.facts} for r in reports]
    print()
    print(sizes.table(rows))
    summary = engine.private_engine().root / "images-report.json"
    summary.write_text(json.dumps([{**row} for row in rows], indent=2, default=str))
    failures = [f"{r.image}: {failure}" for r in reports for failure in r.failures]
    print(f"\n{len(failures)} failure(s)" + "".join(f"\n  {f}" for f in failures))
    print(f"pushed {', '.join(sorted(pushed.values()))} (and latest)")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["smoke"]:
        return checks.smoke_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python3 -m ktrdr.infra.images", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    build_parser = sub.add_parser("build")
    build_parser.add_argument("kinds", nargs="*", default=None)
    build_parser.add_argument("--tag", default="test")
    build_parser.add_argument("--registry", default=DEFAULT_REGISTRY)
    build_parser.add_argument("--base", choices=["bookworm", "trixie"], default="bookworm")
    sub.add_parser("standins")
    check_parser = sub.add_parser("check")
    check_parser.add_argument("kinds", nargs="*", default=None)
    check_parser.add_argument("--py313", action="store_true", help="also the trixie backend")
    args = parser.parse_args(argv)
    kinds = list(getattr(args, "kinds", None) or DEFAULT_BUILD)
    unknown = [kind for kind in kinds if kind not in IMAGES]
    if unknown:
        print(f"unknown image(s) {unknown}; choose from {list(IMAGES)}")
        return 2
    from ktrdr.infra.engine import exit_status

    def run() -> int | None:
        if args.command == "build":
            for reference in _build(kinds, args.tag, args.base, args.registry).values():
                print(reference)
        elif args.command == "standins":
            from ktrdr.infra.images import standins

            for variable, image in standins.build_services().items():
                print(f"{variable}={image}")
        else:
            return check_all(kinds, args.py313)
        return None

    return exit_status("images", run)


if __name__ == "__main__":
    sys.exit(main())
