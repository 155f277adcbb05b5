#!/usr/bin/env python3
"""check_stack.py - static checks of the deploy/ stack that no upstream tool makes: that the
files agree with each other (datasource uids, log paths, ports, secrets, service names), that the
security settings hold (loopback-only ports, authentication on, secrets from files), that every
alerting rule is documented and unit-tested, and that the Loki, Promtail, Filebeat, collector and
Tempo configurations parse with the keys their pinned versions require.

    check_stack.py [DEPLOY_DIR]      # exit 1 and one line per problem if anything is wrong
    check_stack.py --self-test       # break each guarded property on purpose: every break must
                                     # be reported (a check that cannot fail proves nothing)

Run by scripts/check-deploy.sh with the PyYAML of the backends venv.
"""

import copy
import json
import re
import sys
from pathlib import Path

import yaml

SEVERITIES = {"critical", "warning", "info"}
REQUIRED_SERVICES = {
    "app", "prometheus", "alertmanager", "grafana", "loki", "promtail", "elasticsearch",
    "kibana", "filebeat", "otel-collector", "tempo", "jaeger", "glitchtip-web",
    "glitchtip-worker", "glitchtip-postgres", "glitchtip-valkey",
}
REQUIRED_DATASOURCE_TYPES = {"prometheus", "loki", "tempo", "jaeger", "elasticsearch"}
# Every metric of the public contract (DESIGN.md) has a place on the dashboard.
DASHBOARD_METRICS = [
    "ws_handler_calls_total", "ws_handler_duration_seconds_bucket", "ws_handler_in_flight",
    "ws_connections_opened_total", "ws_connections_active", "ws_connection_duration_seconds_bucket",
    "ws_connections_closed_total", "ws_messages_total", "ws_message_size_bytes",
    "ws_ping_rtt_seconds_bucket", "ws_handshake_failures_total", "ws_alerts_total",
    "ws_observe_build_info", "ws_observe_spans_dropped_total", "ws_observe_log_lines_dropped_total",
]
# Fields the server writes on every JSON log line (runtime/src/logs/json.rs).
LOG_FIELDS = {"@timestamp", "log.level", "message", "service.name"}
# Inline secrets Alertmanager would otherwise accept; only their *_file forms are allowed.
INLINE_SECRET_KEYS = {"api_url", "routing_key", "service_key", "auth_password", "smtp_auth_password"}
GRAFANA_BUILTIN_VARIABLES = {
    "__rate_interval", "__interval", "__range", "__from", "__to", "__all", "__interval_ms",
    "__range_s", "__range_ms", "__dashboard", "__org", "__user", "__name",
}


def load(deploy: Path) -> dict:
    """Every file the checks read, parsed; a file that does not parse is reported by the caller."""
    y = lambda p: yaml.safe_load((deploy / p).read_text())  # noqa: E731
    stack = {
        "compose": y("docker-compose.monitoring.yml"),
        "compose_text": (deploy / "docker-compose.monitoring.yml").read_text(),
        "env_example": (deploy / ".env.example").read_text(),
        # Every variable the runtime reads, as its sources spell them.
        "runtime_vars": {
            name
            for source in (deploy.parent / "runtime" / "src").rglob("*.rs")
            for name in re.findall(r'"((?:WS_OBSERVE|OTEL|SENTRY)_[A-Z0-9_]+|RUST_LOG)"', source.read_text())
        },
        "gitignore": (deploy / ".gitignore").read_text(),
        "dockerfile": (deploy / "Dockerfile").read_text(),
        "prometheus": y("prometheus/prometheus.yml"),
        "rules": {p.name: yaml.safe_load(p.read_text()) for p in sorted((deploy / "prometheus/rules").glob("*.yml"))},
        "rule_tests": {p.name: yaml.safe_load(p.read_text()) for p in sorted((deploy / "prometheus/tests").glob("*.yml"))},
        "runbook": (deploy / "RUNBOOK.md").read_text(),
        "alertmanager": y("alertmanager/alertmanager.yml"),
        "datasources": y("grafana/provisioning/datasources/datasources.yml"),
        "dashboard_providers": y("grafana/provisioning/dashboards/dashboards.yml"),
        "dashboards": {p.name: json.loads(p.read_text()) for p in sorted((deploy / "grafana/dashboards").glob("*.json"))},
        "loki": y("loki/loki.yml"),
        "promtail": y("promtail/promtail.yml"),
        "filebeat": y("filebeat/filebeat.yml"),
        "kibana": y("kibana/kibana.yml"),
        "collector": y("otel-collector/config.yml"),
        "tempo": y("tempo/tempo.yml"),
        "repository": cargo_repository(deploy.parent / "Cargo.toml"),
        "existing_paths": {str(p.relative_to(deploy)) for p in deploy.rglob("*")},
    }
    return stack


def cargo_repository(cargo_toml: Path) -> str:
    match = re.search(r'^repository\s*=\s*"([^"]+)"', cargo_toml.read_text(), re.M)
    return match.group(1) if match else ""


def dig(tree, *keys, default=None):
    for key in keys:
        if not isinstance(tree, dict) or key not in tree:
            return default
        tree = tree[key]
    return tree


def walk(tree):
    """Every (key, value) pair of nested dicts and lists."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield key, value
            yield from walk(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from walk(value)


def env_refs(text: str) -> set:
    """Variables a compose file interpolates: ${VAR}, ${VAR:-x}, ${VAR:?msg}; `$$` is a literal.
    Comment lines are skipped."""
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    return set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)", code))


def env_example_vars(text: str) -> set:
    return set(re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)=", text, re.M))


def service_env(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return env


def log_mounts(service: dict) -> dict:
    """Named-volume mounts of a service: volume -> container path."""
    mounts = {}
    for volume in service.get("volumes") or []:
        if isinstance(volume, str):
            parts = volume.split(":")
            if not parts[0].startswith((".", "/")):
                mounts[parts[0]] = parts[1]
        elif volume.get("type", "volume") == "volume":
            mounts[volume["source"]] = volume["target"]
    return mounts


# --------------------------------------------------------------------------------------------
# The checks: each takes the parsed stack and returns a list of problems.

def check_compose(s: dict) -> list:
    problems = []
    services = s["compose"].get("services") or {}
    missing = REQUIRED_SERVICES - set(services)
    if missing:
        problems.append(f"compose: services missing: {sorted(missing)}")
    for name, service in services.items():
        for port in service.get("ports") or []:
            if isinstance(port, dict):
                ok = port.get("host_ip") == "127.0.0.1"
                published = str(port.get("target"))
            else:
                ok = str(port).startswith("127.0.0.1:")
                published = str(port).rsplit(":", 1)[-1]
            if not ok:
                problems.append(f"compose: {name} publishes {port!r} beyond 127.0.0.1")
            if published.split("/")[0] == "9464":
                problems.append(f"compose: {name} publishes /metrics (9464); Prometheus scrapes it on the compose network")
        image = service.get("image")
        if image and "build" not in service:
            tag = image.rsplit("/", 1)[-1].partition(":")[2]
            if not tag or tag == "latest":
                problems.append(f"compose: {name} image {image!r} is not pinned to a version")
        for volume in service.get("volumes") or []:
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
            if source.startswith("./") and source[2:].rstrip("/") not in s["existing_paths"]:
                problems.append(f"compose: {name} mounts {source}, which does not exist in deploy/")
    # Secrets only through deploy/.env, which git must ignore.
    used = env_refs(s["compose_text"]) | {
        spec.get("environment") for spec in (s["compose"].get("secrets") or {}).values() if spec.get("environment")
    }
    undocumented = used - env_example_vars(s["env_example"])
    if undocumented:
        problems.append(f"compose: variables not in .env.example: {sorted(undocumented)}")
    # A published example value must never become a secret in use: every secret is empty.
    for name, value in re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", s["env_example"], re.M):
        # Webhook URLs carry their token; an external URL is only an address.
        secret = re.search(r"PASSWORD|SECRET|TOKEN|_KEY$|_URL$|DSN", name) and not name.endswith("_EXTERNAL_URL")
        if value.strip() and secret:
            problems.append(f".env.example: {name} has a value; secrets must be empty there")
    # A misspelt variable is silently ignored by the server (no token, no alerts): the app's
    # variables must be ones the runtime reads.
    app_env = service_env(services.get("app", {}))
    for key in app_env:
        if key.startswith(("WS_OBSERVE_", "OTEL_", "SENTRY_")) and key not in s["runtime_vars"]:
            problems.append(f"compose: app sets {key}, which ws-observe does not read")
    if ".env" not in [line.strip() for line in s["gitignore"].splitlines()]:
        problems.append("deploy/.gitignore does not ignore .env")
    # Compose must fail loudly, not fall back to a default, when a password is missing.
    for name, service in services.items():
        for key, value in service_env(service).items():
            if re.search(r"PASSWORD|SECRET|TOKEN|_KEY$", key) and not re.fullmatch(r"\$\{[A-Z0-9_]+:\?[^}]*\}", str(value)):
                problems.append(f"compose: {name} {key} is not a required ${{VAR:?}} from deploy/.env")
    # Grafana: authentication on, anonymous off.
    grafana = service_env(services.get("grafana", {}))
    if str(grafana.get("GF_AUTH_ANONYMOUS_ENABLED")).lower() != "false":
        problems.append("compose: grafana must set GF_AUTH_ANONYMOUS_ENABLED=false")
    if str(grafana.get("GF_USERS_ALLOW_SIGN_UP")).lower() != "false":
        problems.append("compose: grafana must set GF_USERS_ALLOW_SIGN_UP=false")
    if str(grafana.get("GF_AUTH_DISABLE_LOGIN_FORM", "false")).lower() != "false":
        problems.append("compose: grafana must keep its login form")
    # Kibana: Elasticsearch security on (so Kibana asks for a login), and no anonymous provider.
    es = service_env(services.get("elasticsearch", {}))
    if str(es.get("xpack.security.enabled")).lower() != "true":
        problems.append("compose: elasticsearch must set xpack.security.enabled=true (Kibana login)")
    providers = dig(s["kibana"], "xpack.security.authc.providers", default={}) or {}
    if not providers or any(str(key).startswith("anonymous") for key in providers):
        problems.append("kibana: authentication providers must be set and include no anonymous provider")
    # The server is built from this repository.
    build = services.get("app", {}).get("build") or {}
    if build.get("context") != ".." or build.get("dockerfile") != "deploy/Dockerfile":
        problems.append("compose: app must build deploy/Dockerfile with the repository root as context")
    if "--example echo_server" not in s["dockerfile"]:
        problems.append("Dockerfile: does not build --example echo_server")
    return problems


def check_logs_pipeline(s: dict) -> list:
    """The server writes files to one volume; Promtail and Filebeat read that volume, at the path
    their configurations follow, and parse the fields the server writes."""
    problems = []
    services = s["compose"].get("services") or {}
    app = services.get("app", {})
    log_dir = service_env(app).get("WS_OBSERVE_LOG_DIR", "")
    app_volume = next((v for v, path in log_mounts(app).items() if path == log_dir), None)
    if not log_dir or not app_volume:
        problems.append("compose: app must write WS_OBSERVE_LOG_DIR to a named volume")
    for reader in ("promtail", "filebeat"):
        if log_mounts(services.get(reader, {})).get(app_volume) != log_dir:
            problems.append(f"compose: {reader} must mount the app's log volume at {log_dir}")
    # Promtail.
    p = s["promtail"]
    if not dig(p, "positions", "filename"):
        problems.append("promtail: positions.filename is required")
    clients = p.get("clients") or []
    if not clients or any(c.get("url") != "http://loki:3100/loki/api/v1/push" for c in clients):
        problems.append("promtail: clients must push to http://loki:3100/loki/api/v1/push")
    paths = [dig(sc, "labels", "__path__") for job in p.get("scrape_configs") or [] for sc in job.get("static_configs") or []]
    if not paths or any(not (path or "").startswith(log_dir + "/") for path in paths):
        problems.append(f"promtail: __path__ must read files under {log_dir}: {paths}")
    stages = [stage for job in p.get("scrape_configs") or [] for stage in job.get("pipeline_stages") or []]
    json_fields = {v.strip('"') for st in stages if "json" in st for v in (st["json"].get("expressions") or {}).values()}
    if not json_fields or not json_fields <= LOG_FIELDS:
        problems.append(f"promtail: json stage must extract fields the server writes ({sorted(LOG_FIELDS)}), got {sorted(json_fields)}")
    if not any("timestamp" in st for st in stages):
        problems.append("promtail: a timestamp stage must use the line's @timestamp")
    # Filebeat 8: filestream inputs need an id; the lines are ndjson already in ECS.
    inputs = dig(s["filebeat"], "filebeat.inputs", default=[]) or []
    for item in inputs:
        if item.get("type") != "filestream" or not item.get("id"):
            problems.append("filebeat: inputs must be `filestream` with an `id`")
        if any(not path.startswith(log_dir + "/") for path in item.get("paths") or [""]):
            problems.append(f"filebeat: paths must be under {log_dir}")
        if not any("ndjson" in parser for parser in item.get("parsers") or []):
            problems.append("filebeat: the JSON lines need an ndjson parser")
    if not inputs:
        problems.append("filebeat: filebeat.inputs is required")
    output = s["filebeat"].get("output.elasticsearch") or {}
    if output.get("hosts") != ["http://elasticsearch:9200"] or not output.get("username"):
        problems.append("filebeat: output.elasticsearch must name the elasticsearch service and a user")
    password = str(output.get("password", ""))
    env_var = re.fullmatch(r"\$\{([A-Z0-9_]+)\}", password)
    if not env_var or env_var.group(1) not in service_env(services.get("filebeat", {})):
        problems.append("filebeat: output.elasticsearch.password must be ${VAR} set on the filebeat service")
    # Loki 3: tsdb + schema v13; retention needs a delete request store.
    loki = s["loki"]
    if loki.get("auth_enabled") is False and (services.get("loki") or {}).get("ports"):
        problems.append("loki: without auth_enabled it must not be published (Grafana reaches it on the compose network)")
    configs = dig(loki, "schema_config", "configs", default=[]) or []
    if not configs or configs[-1].get("store") != "tsdb" or configs[-1].get("schema") != "v13":
        problems.append("loki: the newest schema_config entry must be store tsdb, schema v13 (Loki 3)")
    if dig(loki, "server", "http_listen_port") != 3100:
        problems.append("loki: server.http_listen_port must be 3100 (Promtail and Grafana use it)")
    if not dig(loki, "common", "storage", "filesystem", "chunks_directory"):
        problems.append("loki: common.storage.filesystem.chunks_directory is required")
    if dig(loki, "compactor", "retention_enabled") and not dig(loki, "compactor", "delete_request_store"):
        problems.append("loki: compactor.retention_enabled needs compactor.delete_request_store")
    return problems


def check_traces_pipeline(s: dict) -> list:
    problems = []
    services = s["compose"].get("services") or {}
    c = s["collector"]
    for section in ("receivers", "processors", "exporters", "extensions"):
        if section != "extensions" and not c.get(section):
            problems.append(f"collector: {section} is required")
    for protocol, port in (("grpc", "4317"), ("http", "4318")):
        if dig(c, "receivers", "otlp", "protocols", protocol, "endpoint") != f"0.0.0.0:{port}":
            problems.append(f"collector: otlp {protocol} receiver must listen on 0.0.0.0:{port}")
    for name in c.get("exporters") or {}:
        kind = name.split("/")[0]
        if kind in ("otlp", "otlphttp"):
            problems.append(f"collector: exporter {name!r} uses a deprecated name (otlp_grpc / otlp_http since 0.144)")
    endpoints = {dig(e, "endpoint") for e in (c.get("exporters") or {}).values()}
    for backend in ("tempo:4317", "jaeger:4317"):
        if backend not in endpoints:
            problems.append(f"collector: no exporter sends to {backend}")
        elif backend.split(":")[0] not in services:
            problems.append(f"collector: {backend} is not a compose service")
    pipelines = dig(c, "service", "pipelines", default={}) or {}
    if "traces" not in pipelines:
        problems.append("collector: service.pipelines.traces is required")
    for pipeline, spec in pipelines.items():
        for section in ("receivers", "processors", "exporters"):
            for component in spec.get(section) or []:
                if component not in (c.get(section) or {}):
                    problems.append(f"collector: pipeline {pipeline} uses undefined {section[:-1]} {component!r}")
    for extension in dig(c, "service", "extensions", default=[]) or []:
        if extension not in (c.get("extensions") or {}):
            problems.append(f"collector: service uses undefined extension {extension!r}")
    app_endpoint = service_env(services.get("app", {})).get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if app_endpoint != "http://otel-collector:4318":
        problems.append("compose: app must export OTLP/HTTP to http://otel-collector:4318")
    # Tempo 2.
    t = s["tempo"]
    if dig(t, "server", "http_listen_port") != 3200:
        problems.append("tempo: server.http_listen_port must be 3200 (Grafana's datasource)")
    if dig(t, "distributor", "receivers", "otlp", "protocols", "grpc", "endpoint") != "0.0.0.0:4317":
        problems.append("tempo: distributor otlp grpc receiver must listen on 0.0.0.0:4317")
    if dig(t, "storage", "trace", "backend") != "local" or not dig(t, "storage", "trace", "local", "path") or not dig(t, "storage", "trace", "wal", "path"):
        problems.append("tempo: storage.trace needs backend local with local.path and wal.path")
    return problems


def check_prometheus(s: dict) -> list:
    problems = []
    services = s["compose"].get("services") or {}
    rule_files = s["prometheus"].get("rule_files") or []
    shipped = {f"rules/{name}" for name in s["rules"]}
    if set(rule_files) != shipped:
        problems.append(f"prometheus.yml rule_files {rule_files} != the files in rules/ {sorted(shipped)}")
    for job in s["prometheus"].get("scrape_configs") or []:
        for sc in job.get("static_configs") or []:
            for target in sc.get("targets") or []:
                host = target.split(":")[0]
                if host not in services and host != "localhost":
                    problems.append(f"prometheus.yml: job {job['job_name']} target {target} is not a compose service")
    app_job = next((j for j in s["prometheus"].get("scrape_configs") or [] if j.get("job_name") == "ws-observe"), {})
    credentials = dig(app_job, "authorization", "credentials_file")
    secret = (credentials or "").removeprefix("/run/secrets/")
    if not credentials or secret not in (services.get("prometheus", {}).get("secrets") or []):
        problems.append("prometheus.yml: job ws-observe must read its bearer token from a compose secret file")
    elif dig(s["compose"], "secrets", secret, "environment") != "WS_OBSERVE_METRICS_TOKEN":
        problems.append(f"compose: secret {secret} must be the app's WS_OBSERVE_METRICS_TOKEN")
    # Every alerting rule: severity, annotations, runbook entry, and unit tests both ways.
    tested_firing, tested_silent = set(), set()
    for test_file in s["rule_tests"].values():
        for test in test_file.get("tests") or []:
            for case in test.get("alert_rule_test") or []:
                (tested_firing if case.get("exp_alerts") else tested_silent).add(case.get("alertname"))
    runbook_prefix = s["repository"] + "/blob/main/deploy/RUNBOOK.md#"
    headings = set(re.findall(r"^## (\S+)\s*$", s["runbook"], re.M))
    alerts = [r for f in s["rules"].values() for g in f.get("groups") or [] for r in g.get("rules") or [] if "alert" in r]
    if not alerts:
        problems.append("prometheus: no alerting rules")
    for rule in alerts:
        name = rule["alert"]
        if dig(rule, "labels", "severity") not in SEVERITIES:
            problems.append(f"rule {name}: severity must be one of {sorted(SEVERITIES)}")
        annotations = rule.get("annotations") or {}
        for key in ("summary", "description", "runbook_url"):
            if not annotations.get(key):
                problems.append(f"rule {name}: annotation {key} is required")
        if annotations.get("runbook_url") != runbook_prefix + name.lower():
            problems.append(f"rule {name}: runbook_url must be {runbook_prefix + name.lower()}")
        if name not in headings:
            problems.append(f"rule {name}: RUNBOOK.md has no '## {name}' section")
        if name not in tested_firing:
            problems.append(f"rule {name}: no promtool test where it fires")
        if name not in tested_silent:
            problems.append(f"rule {name}: no promtool test where it stays silent")
    return problems


def check_alertmanager(s: dict) -> list:
    problems = []
    services = s["compose"].get("services") or {}
    mounted = set(services.get("alertmanager", {}).get("secrets") or [])
    for key, value in walk(s["alertmanager"]):
        if key in INLINE_SECRET_KEYS:
            problems.append(f"alertmanager: {key} is inline; use {key}_file with a compose secret")
        if key.endswith("_file") and isinstance(value, str):
            if not value.startswith("/run/secrets/") or value.removeprefix("/run/secrets/") not in mounted:
                problems.append(f"alertmanager: {key} {value} is not a secret mounted on the alertmanager service")
    inhibit = s["alertmanager"].get("inhibit_rules") or []
    if not any('severity="critical"' in r.get("source_matchers", []) and 'severity="warning"' in r.get("target_matchers", [])
               and "handler" in (r.get("equal") or []) for r in inhibit):
        problems.append("alertmanager: warnings of a handler must be inhibited while its critical alert fires")
    return problems


def check_grafana(s: dict) -> list:
    problems = []
    services = s["compose"].get("services") or {}
    datasources = s["datasources"].get("datasources") or []
    by_uid = {d.get("uid"): d for d in datasources}
    by_name = {d.get("name"): d for d in datasources}
    if None in by_uid or len(by_uid) != len(datasources):
        problems.append("grafana: every provisioned datasource needs a unique uid")
    missing = REQUIRED_DATASOURCE_TYPES - {d.get("type") for d in datasources}
    if missing:
        problems.append(f"grafana: datasources missing: {sorted(missing)}")
    for d in datasources:
        host = re.sub(r"^https?://([^:/]+).*", r"\1", d.get("url", ""))
        if host not in services:
            problems.append(f"grafana: datasource {d.get('uid')} url {d.get('url')} is not a compose service")
    # Cross-datasource links (derived fields, traces to logs) resolve too.
    for key, value in walk(s["datasources"]):
        if key == "datasourceUid" and value not in by_uid:
            problems.append(f"grafana: datasourceUid {value!r} is not a provisioned datasource")
    grafana_env = service_env(services.get("grafana", {}))
    for ref in re.findall(r"(?<!\$)\$\{?([A-Z_][A-Z0-9_]*)", yaml.safe_dump(s["datasources"])):
        if ref not in grafana_env:
            problems.append(f"grafana: datasources use ${ref}, which the grafana service does not set")
    provider_paths = {dig(p, "options", "path") for p in s["dashboard_providers"].get("providers") or []}
    mounted = {v.split(":")[1] for v in services.get("grafana", {}).get("volumes") or [] if isinstance(v, str) and v.startswith("./grafana/dashboards")}
    if not provider_paths or not provider_paths <= mounted:
        problems.append(f"grafana: dashboard provider paths {provider_paths} are not where compose mounts ./grafana/dashboards {mounted}")
    if not s["dashboards"]:
        problems.append("grafana: no dashboard")
    uids = [d.get("uid") for d in s["dashboards"].values()]
    if None in uids or len(set(uids)) != len(uids):
        problems.append("grafana: every dashboard needs a unique uid")
    promtail_labels = set()
    for job in s["promtail"].get("scrape_configs") or []:
        for sc in job.get("static_configs") or []:
            promtail_labels |= {k for k in (sc.get("labels") or {}) if not k.startswith("__")}
        for stage in job.get("pipeline_stages") or []:
            promtail_labels |= set((stage.get("labels") or {}) if "labels" in stage else ())
    for file, dashboard in s["dashboards"].items():
        variables = {v.get("name") for v in dig(dashboard, "templating", "list", default=[]) or []}
        # Every datasource reference, wherever it sits (panel, target, variable, annotation).
        for key, value in walk(dashboard):
            if key != "datasource" or value is None:
                continue
            if isinstance(value, str):
                if value not in by_name and value not in by_uid:
                    problems.append(f"{file}: datasource {value!r} is not provisioned")
                continue
            uid, kind = value.get("uid"), value.get("type")
            if kind == "grafana" or uid == "-- Grafana --":
                continue
            if uid not in by_uid:
                problems.append(f"{file}: datasource uid {uid!r} is not provisioned")
            elif kind and by_uid[uid].get("type") != kind:
                problems.append(f"{file}: datasource {uid!r} has type {by_uid[uid].get('type')}, not {kind}")
        text = json.dumps(dashboard)
        for metric in DASHBOARD_METRICS:
            if metric not in text:
                problems.append(f"{file}: no panel shows {metric}")
        panels = list(all_panels(dashboard.get("panels") or []))
        for panel in panels:
            if panel.get("type") == "row":
                continue
            targets = panel.get("targets") or []
            if not targets or any(not t.get("expr") for t in targets):
                problems.append(f"{file}: panel {panel.get('title')!r} has a target without a query")
            for target in targets:
                for var in re.findall(r"\$\{?(\w+)", target.get("expr", "")):
                    if var not in variables and var not in GRAFANA_BUILTIN_VARIABLES:
                        problems.append(f"{file}: panel {panel.get('title')!r} uses undefined variable ${var}")
                ds = target.get("datasource") or panel.get("datasource") or {}
                if isinstance(ds, dict) and ds.get("type") == "loki":
                    selector = re.match(r"\s*\{([^}]*)\}", target.get("expr", ""))
                    labels = set(re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", selector.group(1))) if selector else set()
                    if not selector or not labels <= promtail_labels:
                        problems.append(f"{file}: Loki query {target.get('expr')!r} selects labels Promtail does not set ({sorted(promtail_labels)})")
        if not any(p.get("type") == "logs" and dig(p, "datasource", "type") == "loki" for p in panels):
            problems.append(f"{file}: no Loki logs panel")
        handler_links = [link for p in panels if "ws_handler" in json.dumps(p.get("targets"))
                         for link in dig(p, "fieldConfig", "defaults", "links", default=[]) or []]
        if not any("tempo" in link.get("url", "") and "__field.labels.handler" in link.get("url", "") for link in handler_links):
            problems.append(f"{file}: handler panels need a link to the handler's traces in Tempo")
    return problems


def all_panels(panels):
    for panel in panels:
        yield panel
        yield from all_panels(panel.get("panels") or [])


CHECKS = [check_compose, check_logs_pipeline, check_traces_pipeline, check_prometheus, check_alertmanager, check_grafana]


def run(stack: dict) -> list:
    return [problem for check in CHECKS for problem in check(stack)]


# --------------------------------------------------------------------------------------------
# Self-test: each mutation breaks one property; the checks must report it.

def _set(path, value):
    def mutate(s):
        tree = s
        for key in path[:-1]:
            tree = tree[key]
        tree[path[-1]] = value
    return mutate


MUTATIONS = [
    ("a port published on every address", _set(["compose", "services", "grafana", "ports"], ["3000:3000"]), "beyond 127.0.0.1"),
    ("/metrics published", _set(["compose", "services", "app", "ports"], ["127.0.0.1:9464:9464"]), "publishes /metrics"),
    ("an unpinned image", _set(["compose", "services", "loki", "image"], "grafana/loki:latest"), "not pinned"),
    ("anonymous Grafana", lambda s: s["compose"]["services"]["grafana"]["environment"].update(GF_AUTH_ANONYMOUS_ENABLED="true"), "ANONYMOUS"),
    ("a default password", lambda s: s["compose"]["services"]["grafana"]["environment"].update(GF_SECURITY_ADMIN_PASSWORD="${GRAFANA_ADMIN_PASSWORD:-admin}"), "GF_SECURITY_ADMIN_PASSWORD"),
    ("an anonymous Kibana provider", lambda s: s["kibana"]["xpack.security.authc.providers"].update({"anonymous.a": {"order": 1}}), "anonymous"),
    (".env not ignored", _set(["gitignore"], "*.log\n"), "does not ignore .env"),
    ("a secret value in .env.example", lambda s: s.update(env_example=s["env_example"].replace("GRAFANA_ADMIN_PASSWORD=", "GRAFANA_ADMIN_PASSWORD=admin")), "secrets must be empty"),
    ("a misspelt server variable", lambda s: s["compose"]["services"]["app"]["environment"].update(WS_OBSERVE_METRIC_TOKEN="x"), "does not read"),
    ("a variable missing from .env.example", _set(["env_example"], "GRAFANA_ADMIN_USER=admin\n"), ".env.example"),
    ("Promtail reading another directory", lambda s: s["promtail"]["scrape_configs"][0]["static_configs"][0]["labels"].update(__path__="/var/log/*.log"), "__path__"),
    ("Filebeat without the log volume", _set(["compose", "services", "filebeat", "volumes"], []), "filebeat must mount"),
    ("a filestream input without id", lambda s: s["filebeat"]["filebeat.inputs"][0].pop("id"), "`id`"),
    ("Loki without authentication published", _set(["compose", "services", "loki", "ports"], ["127.0.0.1:3100:3100"]), "must not be published"),
    ("Loki on an old schema", lambda s: s["loki"]["schema_config"]["configs"][-1].update(schema="v12"), "v13"),
    ("a deprecated collector exporter name", lambda s: s["collector"]["exporters"].update(otlp={"endpoint": "x:4317"}), "deprecated"),
    ("a pipeline using an undefined exporter", lambda s: s["collector"]["service"]["pipelines"]["traces"]["exporters"].append("otlp_grpc/nowhere"), "undefined exporter"),
    ("Tempo without a listening receiver", lambda s: s["tempo"]["distributor"]["receivers"]["otlp"]["protocols"]["grpc"].update(endpoint="localhost:4317"), "tempo: distributor"),
    ("a rule file not loaded", lambda s: s["prometheus"]["rule_files"].pop(), "rule_files"),
    ("an alert without severity", lambda s: s["rules"][next(iter(s["rules"]))]["groups"][0]["rules"].append({"alert": "Untested", "expr": "up == 0"}), "severity"),
    ("an alert with an unknown severity", lambda s: [r["labels"].update(severity="page") for f in s["rules"].values() for g in f["groups"] for r in g["rules"] if r.get("alert") == "WsTargetDown"], "severity must be"),
    ("an alert without a silent test", lambda s: [t.__setitem__("alert_rule_test", [c for c in t.get("alert_rule_test", []) if c.get("exp_alerts") or c.get("alertname") != "WsSpansDropped"]) for f in s["rule_tests"].values() for t in f["tests"]], "stays silent"),
    ("an alert without runbook entry", _set(["runbook"], "# Runbook\n"), "RUNBOOK.md has no"),
    ("an inline Slack URL", lambda s: s["alertmanager"]["receivers"][1]["slack_configs"][0].update(api_url="https://hooks.slack.com/x"), "inline"),
    ("no inhibition", _set(["alertmanager", "inhibit_rules"], []), "inhibited"),
    ("a dashboard on an unknown datasource", lambda s: next(iter(s["dashboards"].values()))["panels"][1].update(datasource={"type": "prometheus", "uid": "prom-old"}), "prom-old"),
    ("a datasource of the wrong type", lambda s: next(iter(s["dashboards"].values()))["panels"][1].update(datasource={"type": "loki", "uid": "prometheus"}), "has type"),
    ("a derived field to a missing datasource", lambda s: s["datasources"]["datasources"][1]["jsonData"]["derivedFields"][0].update(datasourceUid="zipkin"), "zipkin"),
    ("a Loki query on a label Promtail does not set", lambda s: next(p for p in all_panels(next(iter(s["dashboards"].values()))["panels"]) if p.get("type") == "logs")["targets"][0].update(expr='{app="x"}'), "Promtail does not set"),
    ("an undefined dashboard variable", lambda s: next(p for p in all_panels(next(iter(s["dashboards"].values()))["panels"]) if p.get("targets"))["targets"][0].update(expr="up{x=\"$nope\"}"), "$nope"),
    ("no trace links", lambda s: [p["fieldConfig"]["defaults"].update(links=[]) for p in all_panels(next(iter(s["dashboards"].values()))["panels"]) if dig(p, "fieldConfig", "defaults", "links")], "traces in Tempo"),
]


def self_test(stack: dict) -> int:
    baseline = run(stack)
    if baseline:
        print("check_stack self-test: the shipped stack already has problems:", *baseline, sep="\n  ")
        return 1
    failed = 0
    for what, mutate, expected in MUTATIONS:
        broken = copy.deepcopy(stack)
        mutate(broken)
        problems = run(broken)
        if not any(expected in p for p in problems):
            failed += 1
            print(f"check_stack self-test: not caught: {what} (expected a problem with {expected!r}, got {problems})")
    print(f"check_stack self-test: {len(MUTATIONS) - failed} of {len(MUTATIONS)} breakages caught")
    return 1 if failed else 0


def main(argv: list) -> int:
    args = [a for a in argv[1:] if not a.startswith("--")]
    deploy = Path(args[0] if args else Path(__file__).resolve().parent)
    try:
        stack = load(deploy)
    except (OSError, ValueError, yaml.YAMLError) as error:
        print(f"check_stack: cannot read the stack: {error}")
        return 1
    if "--self-test" in argv:
        return self_test(stack)
    problems = run(stack)
    for problem in problems:
        print(f"check_stack: {problem}")
    if not problems:
        print(f"check_stack: {len(CHECKS)} groups of checks passed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
