#!/usr/bin/env bash
# setup.sh - run once by the `elasticsearch-setup` service of docker-compose.monitoring.yml:
# gives Kibana's built-in `kibana_system` user its password and creates two least-privilege
# users, `filebeat_writer` (writes filebeat-* only) and `grafana_reader` (reads it only), so
# neither Filebeat nor Grafana holds the `elastic` superuser's password. Idempotent: roles and
# users are created or updated in place.
set -euo pipefail

: "${ELASTIC_PASSWORD:?}" "${KIBANA_SYSTEM_PASSWORD:?}" "${FILEBEAT_PASSWORD:?}" "${ES_GRAFANA_PASSWORD:?}"
ES=http://elasticsearch:9200

es() {  # METHOD PATH [JSON]
  curl --fail-with-body -sS -u "elastic:$ELASTIC_PASSWORD" -X "$1" "$ES$2" \
    -H 'Content-Type: application/json' ${3:+--data-binary "$3"}
  echo
}

for _ in $(seq 120); do
  curl -sf -u "elastic:$ELASTIC_PASSWORD" "$ES/_cluster/health?wait_for_status=yellow&timeout=1s" >/dev/null && break
  sleep 1
done

es POST /_security/user/kibana_system/_password "{\"password\":\"$KIBANA_SYSTEM_PASSWORD\"}"

es PUT /_security/role/filebeat_writer '{
  "cluster": ["monitor", "read_ilm", "read_pipeline", "manage_ilm", "manage_index_templates"],
  "indices": [{"names": ["filebeat-*"], "privileges": ["create_doc", "view_index_metadata", "auto_configure"]}]
}'
es PUT /_security/user/filebeat_writer "{\"password\":\"$FILEBEAT_PASSWORD\",\"roles\":[\"filebeat_writer\"]}"

es PUT /_security/role/logs_reader '{
  "cluster": ["monitor"],
  "indices": [{"names": ["filebeat-*"], "privileges": ["read", "view_index_metadata"]}]
}'
es PUT /_security/user/grafana_reader "{\"password\":\"$ES_GRAFANA_PASSWORD\",\"roles\":[\"logs_reader\"]}"

echo "elasticsearch-setup: users kibana_system, filebeat_writer, grafana_reader ready"
