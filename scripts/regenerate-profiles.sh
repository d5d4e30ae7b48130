#!/usr/bin/env bash
# Regenerates profiles/mpk-l from the published data in ../shared with our
# own importer. The test `builtin` checks that the committed files match.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet -p wrap-server -- import --chiron ../shared/reference/chiron --out profiles/mpk-l
