#!/usr/bin/env bash
# Measures the service under load: requests per second for cached seed
# requests (finra50 @ 348 ms, as the seed's curl sends it) over 64
# connections, with wrk from Debian's packages. Not part of the tests:
# run it by hand on an otherwise idle machine.
#
#   scripts/load-test.sh [SECONDS] [CONNECTIONS]
#
# Installs wrk with apt-get when it is missing, builds the release binary,
# starts it on a free loopback port, warms the cache with one request,
# runs wrk, prints its report and stops the server with SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${1:-10}
connections=${2:-64}
port=${PORT:-20290}

if ! command -v wrk >/dev/null 2>&1; then
    echo "== installing wrk (Debian package)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk
fi

echo "== building the release binary"
cargo build --release -q -p wrap-server

log=$(mktemp)
body=$(mktemp --suffix=.lua)
trap 'kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log" "$body"' EXIT

target/release/wrap-server --listen "127.0.0.1:$port" 2>"$log" &
pid=$!
for _ in $(seq 1 100); do
    grep -q "listening on" "$log" && break
    sleep 0.1
done
grep -q "listening on" "$log" || { cat "$log"; echo "the server did not start" >&2; exit 1; }

seed='{"workflow": "finra50", "SLO": 348}'
echo "== warming the cache: $seed"
curl -sf -d "$seed" "http://127.0.0.1:$port/" >/dev/null

cat >"$body" <<EOF
wrk.method = "POST"
wrk.body = '$seed'
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
done = function(summary, latency, requests)
    io.write(string.format("non-2xx or errors: %d\n",
        summary.errors.status + summary.errors.connect + summary.errors.read
        + summary.errors.write + summary.errors.timeout))
end
EOF

echo "== wrk: ${duration}s, $connections connections, 2 threads, cached seed requests"
wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$body" "http://127.0.0.1:$port/"
