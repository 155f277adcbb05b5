#!/usr/bin/env bash
# check-deploy.sh - the static checks of the deploy/ monitoring stack, with the real tools:
# promtool (config, rules, rule unit tests), amtool (config, routing by severity), the Compose
# Specification schema (check-jsonschema, offline), and deploy/check_stack.py for what no tool
# checks (files agreeing with each other, security settings, every alert documented and tested,
# Loki/Promtail/Filebeat/collector/Tempo keys), including its self-test that each of those checks
# does catch a breakage. tests/deploy/ runs the same files against a live Prometheus and
# Alertmanager.
#
# Needs scripts/install-backends.sh first (promtool, amtool, and the venv with check-jsonschema
# and PyYAML, in $WS_OBSERVE_BACKENDS_DIR, default ~/.cache/ws-observe-backends). Runs every
# check, then exits non-zero if any failed.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${WS_OBSERVE_BACKENDS_DIR:-$HOME/.cache/ws-observe-backends}/venv"
PYTHON="$VENV/bin/python"
CHECK_JSONSCHEMA="$VENV/bin/check-jsonschema"
PROMTOOL="${PROMTOOL:-promtool}"
AMTOOL="${AMTOOL:-amtool}"
for tool in "$PROMTOOL" "$AMTOOL" "$PYTHON" "$CHECK_JSONSCHEMA"; do
  command -v "$tool" >/dev/null || {
    echo "check-deploy: $tool not found: run scripts/install-backends.sh" >&2
    exit 1
  }
done

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

passed=0
failed=0
# check NAME COMMAND...: runs it, prints its output only when it fails.
check() {
  local name="$1" output
  shift
  if output="$("$@" 2>&1)"; then
    passed=$((passed + 1))
    echo "check-deploy: ok   $name"
  else
    failed=$((failed + 1))
    echo "check-deploy: FAIL $name"
    sed 's/^/    /' <<<"$output"
  fi
}

# promtool stats the bearer token file, which only exists inside the Prometheus container:
# check a copy whose credentials_file points at a stand-in.
cp -r deploy/prometheus "$TMP/prometheus"
echo stand-in-token >"$TMP/metrics_token"
sed -i "s#credentials_file: /run/secrets/metrics_token#credentials_file: $TMP/metrics_token#" \
  "$TMP/prometheus/prometheus.yml"
prometheus_config() {
  grep -q "credentials_file: $TMP/metrics_token" "$TMP/prometheus/prometheus.yml" \
    || { echo "prometheus.yml no longer reads /run/secrets/metrics_token"; return 1; }
  "$PROMTOOL" check config "$TMP/prometheus/prometheus.yml"
}
check "promtool check config (prometheus.yml and the rule files it loads)" prometheus_config
check "promtool check rules" "$PROMTOOL" check rules deploy/prometheus/rules/*.yml
check "promtool test rules (every alert fires and stays silent)" \
  "$PROMTOOL" test rules deploy/prometheus/tests/*.yml

AM_CONFIG=deploy/alertmanager/alertmanager.yml
check "amtool check-config" "$AMTOOL" check-config "$AM_CONFIG"
# route LABELS RECEIVERS: the receivers an alert with these labels reaches.
route() {
  "$AMTOOL" config routes test --config.file="$AM_CONFIG" --verify.receivers="$2" $1
}
check "alertmanager routes critical to PagerDuty and Slack" route "severity=critical handler=pay" pagerduty,slack
check "alertmanager routes warning to Slack" route "severity=warning" slack
check "alertmanager routes info to e-mail" route "severity=info" email
check "alertmanager routes an alert without severity to e-mail" route "alertname=Other" email

check "compose file against the Compose Specification" \
  "$CHECK_JSONSCHEMA" --builtin-schema vendor.compose-spec deploy/docker-compose.monitoring.yml
check "elasticsearch/setup.sh syntax" bash -n deploy/elasticsearch/setup.sh
check "stack consistency, security, alert docs and tests, Loki/Promtail/Filebeat/collector/Tempo keys" \
  "$PYTHON" deploy/check_stack.py
check "check_stack.py catches each breakage it guards against" \
  "$PYTHON" deploy/check_stack.py --self-test

echo "check-deploy: $passed passed, $failed failed"
[ "$failed" = 0 ]
