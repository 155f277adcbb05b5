#!/usr/bin/env bash
# smoke-echo.sh - the README's first command, checked: start the echo server example on free
# loopback ports, send a burst with the echo client, and check /metrics moved. The server is
# stopped by its own PID whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build -q --examples
BIN="${CARGO_TARGET_DIR:-target}/debug/examples"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
WS_PORT=$(free_port)
METRICS_PORT=$(free_port)
LOG=$(mktemp)

WS_OBSERVE_METRICS_ADDR="127.0.0.1:$METRICS_PORT" RUST_LOG=warn \
  "$BIN/echo_server" "127.0.0.1:$WS_PORT" >"$LOG" 2>&1 &
SERVER_PID=$!
trap 'kill "$SERVER_PID" 2>/dev/null || true; rm -f "$LOG"' EXIT

ready=0
for _ in $(seq 100); do
  if curl -sf "http://127.0.0.1:$METRICS_PORT/healthz" >/dev/null; then ready=1; break; fi
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "smoke-echo: server exited:"; cat "$LOG"; exit 1; }
  sleep 0.1
done
if [ "$ready" != 1 ]; then
  echo "smoke-echo: /healthz never answered on 127.0.0.1:$METRICS_PORT in 10 s:"
  cat "$LOG"
  exit 1
fi

"$BIN/echo_client" "ws://127.0.0.1:$WS_PORT" 200
metrics=$(curl -sf "http://127.0.0.1:$METRICS_PORT/metrics")
# expect SERIES VALUE: the exposition has exactly the line `SERIES VALUE` (so `... 1` does not
# match `... 10`).
expect() {
  if ! grep -qxF "$1 $2" <<<"$metrics"; then
    echo "smoke-echo: expected $1 $2, got:"
    grep -F "$1 " <<<"$metrics" || echo "  (no such series)"
    exit 1
  fi
}
expect 'ws_handler_calls_total{handler="on_message",module="echo_server",outcome="ok"}' 180
expect 'ws_handler_calls_total{handler="on_message",module="echo_server",outcome="error"}' 20
expect 'ws_handler_in_flight{handler="on_message",module="echo_server"}' 0
expect 'ws_connections_opened_total' 1
expect 'ws_messages_total{direction="received",kind="text"}' 200
expect 'ws_messages_total{direction="sent",kind="text"}' 200
echo "smoke-echo: 1 passed, 0 failed"
