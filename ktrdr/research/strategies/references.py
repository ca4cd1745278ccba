"""Checks that need the whole strategy: every reference points at something defined.

They run on the raw YAML data, next to the schema validation, so that one report
lists structural and reference problems together. Malformed parts are skipped here:
the schema already reports them.
"""

from __future__ import annotations

from typing import Any

from ktrdr.research.indicator_catalogue import get_indicator, split_reference

Issue = tuple[str, str]  # (YAML path, message)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def check_references(data: dict[str, Any]) -> list[Issue]:
    issues: list[Issue] = []
    indicators = _mapping(data.get("indicators"))
    for indicator_id, indicator in indicators.items():
        indicator = _mapping(indicator)
        kind = indicator.get("type")
        if not isinstance(kind, str):
            continue
        spec = get_indicator(kind)
        if spec is None:
            issues.append((f"indicators.{indicator_id}.type", f"unknown indicator type {kind!r}"))
            continue
        params = _mapping(indicator.get("params"))
        param_errors = spec.validate_params(params)
        for param, message in param_errors.items():
            issues.append((f"indicators.{indicator_id}.params.{param}", message))
        if kind.lower() == "macd" and not param_errors:
            resolved = spec.resolve_params(params)
            if resolved["fast_period"] >= resolved["slow_period"]:
                # TA-Lib would silently swap them; say so instead.
                issues.append(
                    (f"indicators.{indicator_id}.params.fast_period", "must be below slow_period")
                )

    fuzzy_sets = _mapping(data.get("fuzzy_sets"))
    for set_id, fuzzy_set in fuzzy_sets.items():
        reference = _mapping(fuzzy_set).get("indicator")
        if isinstance(reference, str):
            message = _reference_problem(indicators, reference)
            if message:
                issues.append((f"fuzzy_sets.{set_id}.indicator", message))

    training_data = _mapping(data.get("training_data"))
    timeframes = training_data.get("timeframes", ["1d"])
    nn_inputs = data.get("nn_inputs")
    for index, nn_input in enumerate(nn_inputs if isinstance(nn_inputs, list) else []):
        nn_input = _mapping(nn_input)
        path = f"nn_inputs.{index}"
        set_ref = nn_input.get("fuzzy_set")
        if isinstance(set_ref, str) and set_ref not in fuzzy_sets:
            defined = ", ".join(fuzzy_sets) or "none"
            issues.append(
                (f"{path}.fuzzy_set", f"unknown fuzzy set {set_ref!r} (defined: {defined})")
            )
        indicator_ref = nn_input.get("indicator")
        if isinstance(indicator_ref, str):
            message = _reference_problem(indicators, indicator_ref)
            if message:
                issues.append((f"{path}.indicator", message))
        input_timeframes = nn_input.get("timeframes")
        if isinstance(input_timeframes, list) and isinstance(timeframes, list):
            for tf in input_timeframes:
                if tf not in timeframes:
                    issues.append(
                        (
                            f"{path}.timeframes",
                            f"timeframe {tf!r} is not in training_data.timeframes {timeframes}",
                        )
                    )
    return issues


def _reference_problem(indicators: dict[str, Any], reference: str) -> str | None:
    indicator_id, output = split_reference(reference)
    if indicator_id not in indicators:
        defined = ", ".join(indicators) or "none"
        return f"unknown indicator {indicator_id!r} (defined: {defined})"
    kind = _mapping(indicators[indicator_id]).get("type")
    spec = get_indicator(kind) if isinstance(kind, str) else None
    if spec is None or output is None:
        return None  # an unknown type is reported once, under indicators
    if output not in spec.all_outputs:
        return f"{kind} has no output {output!r} (outputs: {', '.join(spec.all_outputs)})"
    return None
