#!/usr/bin/env bash
# Vendor TradingView's lightweight-charts from the npm registry: the standalone production
# build and the licence, into ktrdr/reports/vendor/lightweight-charts/.
#   scripts/vendor_lightweight_charts.sh 5.2.1
set -euo pipefail
version="${1:?usage: $0 VERSION}"
cd "$(dirname "$0")/.."
target=ktrdr/reports/vendor/lightweight-charts
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "lightweight-charts@${version}" >/dev/null && tar xzf ./*.tgz)
cp "$work/package/dist/lightweight-charts.standalone.production.js" "$work/package/LICENSE" "$target/"
echo "integrity: $(npm view "lightweight-charts@${version}" dist.integrity)"
sha256sum "$target/lightweight-charts.standalone.production.js"
