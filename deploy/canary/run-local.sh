#!/usr/bin/env bash
# Canary against a throw-away local stack (`ktrdr up`), or against KTRDR_API_URL if set.
set -euo pipefail
RUN=${RUN:-uv run --no-sync}
if [ -n "${KTRDR_API_URL:-}" ]; then
    exec $RUN python -m ktrdr.infra.canary
fi
KTRDR_HOME=$(mktemp -d)
export KTRDR_HOME
# The canary uploads its strategies: into a copy, not into the repository's folder.
cp -r strategies "$KTRDR_HOME/strategies"
export KTRDR_STRATEGIES_DIR="$KTRDR_HOME/strategies"
export KTRDR_API_PORT=${KTRDR_CANARY_PORT:-18000}
trap '$RUN ktrdr down; rm -rf "$KTRDR_HOME"' EXIT
$RUN ktrdr up --backtest-port 15003 --training-port 15004
KTRDR_API_URL="http://127.0.0.1:$KTRDR_API_PORT" $RUN python -m ktrdr.infra.canary
