//! The PromQL of the shipped rules and Grafana dashboards: reading the expressions out of the
//! files, filling Grafana's variables as Grafana would, rewriting an alert into its 0/1 signal,
//! and what counts as a query that returns data.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::backends::Prometheus;

/// Makes every comparison of a PromQL expression a `bool` comparison. An alerting rule's
/// expression returns only the series past its threshold, which a healthy server has none of;
/// with `bool` it returns the 0/1 signal of every series, which proves the series behind the
/// alert exist. Label matchers (inside `{}`), range selectors and strings are left alone.
fn with_bool_comparisons(expr: &str) -> String {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = String::with_capacity(expr.len() + 16);
    let (mut braces, mut brackets) = (0i32, 0i32);
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            out.push(c);
            if c == '\\' && q != '`' {
                if let Some(&escaped) = chars.get(i + 1) {
                    out.push(escaped);
                    i += 1;
                }
            } else if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '{' => braces += 1,
            '}' => braces -= 1,
            '[' => brackets += 1,
            ']' => brackets -= 1,
            _ => {}
        }
        let operator = if braces == 0 && brackets == 0 {
            match (c, chars.get(i + 1)) {
                ('=' | '!' | '>' | '<', Some('=')) => 2,
                ('>' | '<', _) => 1,
                _ => 0,
            }
        } else {
            0
        };
        if operator == 0 {
            out.push(c);
            i += 1;
            continue;
        }
        out.extend(&chars[i..i + operator]);
        i += operator;
        let rest: String = chars[i..].iter().collect();
        let rest = rest.trim_start();
        let already = rest.starts_with("bool")
            && !rest[4..].starts_with(|c: char| c.is_alphanumeric() || c == '_');
        if !already {
            out.push_str(" bool");
        }
    }
    out
}

/// Replaces Grafana variables (`$name`, `${name}`, `${name:format}`, `[[name]]`) with their
/// values; a variable without a value is an error (Grafana would send the query broken).
fn substitute(expr: &str, values: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = expr;
    while let Some(at) = rest.find(['$', '[']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let (name, used) = if let Some(inner) = tail.strip_prefix("${") {
            let end = inner
                .find('}')
                .ok_or_else(|| format!("unclosed ${{ in {expr}"))?;
            let name = inner[..end].split(':').next().unwrap_or_default();
            (name, end + 3)
        } else if let Some(inner) = tail.strip_prefix("[[") {
            let end = inner
                .find("]]")
                .ok_or_else(|| format!("unclosed [[ in {expr}"))?;
            (&inner[..end], end + 4)
        } else if let Some(inner) = tail.strip_prefix('$') {
            let len = inner
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(inner.len());
            (&inner[..len], len + 1)
        } else {
            // A `[` that opens a range selector, not a variable.
            out.push('[');
            rest = &tail[1..];
            continue;
        };
        if name.is_empty() {
            return Err(format!("a bare `$` in {expr}"));
        }
        let value = values
            .get(name)
            .ok_or_else(|| format!("variable ${name} has no value in {expr}"))?;
        out.push_str(value);
        rest = &tail[used..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `label_values(selector, label)` or `label_values(label)` (Grafana's Prometheus variable
/// query) as (selector, label).
fn parse_label_values(query: &str) -> Option<(Option<String>, String)> {
    let inner = query
        .trim()
        .strip_prefix("label_values(")?
        .strip_suffix(')')?;
    match inner.rsplit_once(',') {
        Some((selector, label)) => {
            Some((Some(selector.trim().to_owned()), label.trim().to_owned()))
        }
        None => Some((None, inner.trim().to_owned())),
    }
}

/// Escapes regex metacharacters the way Grafana does for a multi-value Prometheus variable.
fn regex_escape(value: &str) -> String {
    let mut out = String::new();
    for c in value.chars() {
        if "\\^$.|?*+()[]{}".contains(c) {
            out.push_str("\\\\");
        }
        out.push(c);
    }
    out
}

/// Why a query result does not count as data: empty, or no finite value (a quantile or ratio
/// over nothing is NaN).
pub fn lacks_data(series: &[Value]) -> Option<String> {
    if series.is_empty() {
        return Some("no series".into());
    }
    let finite = series.iter().any(|s| {
        s["value"][1]
            .as_str()
            .and_then(|v| v.parse::<f64>().ok())
            .is_some_and(f64::is_finite)
    });
    (!finite).then(|| format!("only NaN or infinite values: {series:?}"))
}

/// One PromQL expression of a shipped file.
pub struct Expression {
    /// Where it comes from, for the failure message.
    pub origin: String,
    pub expr: String,
    /// An alerting rule's: checked for validity as is, for data as a 0/1 signal.
    pub alert: bool,
}

/// What is wrong with each expression that is invalid or returns no data in `prom` (an
/// alerting rule's, as its 0/1 signal); empty if nothing is.
pub fn problems(prom: &Prometheus, expressions: &[Expression]) -> Vec<String> {
    let mut problems = Vec::new();
    for e in expressions {
        match prom.query(&e.expr) {
            Err(error) => problems.push(format!("{}: invalid: {error}\n    {}", e.origin, e.expr)),
            Ok(result) if !e.alert => {
                if let Some(why) = lacks_data(&result) {
                    problems.push(format!("{}: {why}\n    {}", e.origin, e.expr));
                }
            }
            Ok(_) => {
                let signal = with_bool_comparisons(&e.expr);
                match prom.query(&signal) {
                    Err(error) => problems.push(format!(
                        "{}: signal invalid: {error}\n    {signal}",
                        e.origin
                    )),
                    Ok(result) => {
                        if let Some(why) = lacks_data(&result) {
                            problems.push(format!("{}: {why}\n    {signal}", e.origin));
                        }
                    }
                }
            }
        }
    }
    problems
}

/// The expressions of every rule in the rule files the Prometheus configuration `config`
/// (written as JSON) loads.
pub fn rule_expressions(config: &Path) -> Vec<Expression> {
    let config: Value = serde_json::from_str(&std::fs::read_to_string(config).unwrap()).unwrap();
    let mut out = Vec::new();
    for file in config["rule_files"].as_array().unwrap() {
        let rules: Value =
            serde_json::from_str(&std::fs::read_to_string(file.as_str().unwrap()).unwrap())
                .unwrap();
        for group in rules["groups"].as_array().unwrap() {
            for rule in group["rules"].as_array().unwrap() {
                let (name, alert) = match (rule["alert"].as_str(), rule["record"].as_str()) {
                    (Some(alert), _) => (alert, true),
                    (_, Some(record)) => (record, false),
                    _ => panic!("rule without alert or record: {rule}"),
                };
                out.push(Expression {
                    origin: format!("rule {name}"),
                    expr: rule["expr"].as_str().unwrap().to_owned(),
                    alert,
                });
            }
        }
    }
    out
}

/// Every panel of a dashboard, those nested in rows included.
fn panels(list: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for panel in list.as_array().into_iter().flatten() {
        out.push(panel);
        out.extend(panels(&panel["panels"]));
    }
    out
}

/// The dashboard's variable values as Grafana would fill them from this Prometheus (every
/// variable query must offer at least one value), and its Prometheus expressions.
pub fn dashboard_expressions(
    prom: &Prometheus,
    file: &Path,
    values: &mut BTreeMap<String, String>,
) -> Vec<Expression> {
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    for variable in dashboard["templating"]["list"].as_array().unwrap() {
        let var = variable["name"].as_str().unwrap().to_owned();
        let value = match variable["type"].as_str().unwrap() {
            "query" => {
                let query = variable["query"]["query"]
                    .as_str()
                    .or(variable["query"].as_str())
                    .unwrap();
                let query = substitute(query, values)
                    .unwrap_or_else(|e| panic!("{name}: variable {var}: {e}"));
                let (selector, label) = parse_label_values(&query).unwrap_or_else(|| {
                    panic!("{name}: variable {var}: not label_values(...): {query}")
                });
                let found = prom.label_values(&label, selector.as_deref());
                assert!(
                    !found.is_empty(),
                    "{name}: variable {var} ({query}) offers no value"
                );
                if variable["multi"] == true || variable["includeAll"] == true {
                    found
                        .iter()
                        .map(|v| regex_escape(v))
                        .collect::<Vec<_>>()
                        .join("|")
                } else {
                    found[0].clone()
                }
            }
            "textbox" | "constant" | "custom" => variable["current"]["value"]
                .as_str()
                .or(variable["query"].as_str())
                .unwrap()
                .to_owned(),
            other => panic!("{name}: variable {var} of type {other} is not handled by this test"),
        };
        values.insert(var, value);
    }
    let mut out = Vec::new();
    for panel in panels(&dashboard["panels"]) {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let datasource = if target["datasource"].is_object() {
                &target["datasource"]
            } else {
                &panel["datasource"]
            };
            if datasource["type"] != "prometheus" {
                continue; // LogQL: checked against Promtail's labels by check_stack.py.
            }
            let expr = substitute(target["expr"].as_str().unwrap(), values)
                .unwrap_or_else(|e| panic!("{name}: panel {}: {e}", panel["title"]));
            out.push(Expression {
                origin: format!("{name}: panel {} ({})", panel["title"], target["refId"]),
                expr,
                alert: false,
            });
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The helpers' own tests (no back-end needed).

#[test]
fn comparisons_become_bool_outside_matchers_ranges_and_strings() {
    assert_eq!(with_bool_comparisons("up == 0"), "up == bool 0");
    assert_eq!(
        with_bool_comparisons(r#"a{x!="y",z=~"a>b"} > 0.5 and rate(b[5m]) <= 1"#),
        r#"a{x!="y",z=~"a>b"} > bool 0.5 and rate(b[5m]) <= bool 1"#
    );
    assert_eq!(with_bool_comparisons("x > bool 1"), "x > bool 1");
    assert_eq!(with_bool_comparisons("x >= boolean"), "x >= bool boolean");
    assert_eq!(
        with_bool_comparisons(r#"label_replace(x, "a", "<", "b", ".*") != 2"#),
        r#"label_replace(x, "a", "<", "b", ".*") != bool 2"#
    );
}

#[test]
fn grafana_variables_are_substituted_and_unknown_ones_refused() {
    let values = BTreeMap::from([
        ("job".to_owned(), "ws-observe".to_owned()),
        ("handler".to_owned(), "a|b".to_owned()),
        ("__rate_interval".to_owned(), "1m".to_owned()),
    ]);
    assert_eq!(
        substitute(
            r#"rate(x{job="$job",h=~"${handler:regex}"}[$__rate_interval])[5m:] [[job]]"#,
            &values
        )
        .unwrap(),
        r#"rate(x{job="ws-observe",h=~"a|b"}[1m])[5m:] ws-observe"#
    );
    assert!(
        substitute("x{a=\"$nope\"}", &values)
            .unwrap_err()
            .contains("$nope")
    );
    assert_eq!(
        parse_label_values(r#"label_values(up{job="x"}, instance)"#),
        Some((Some(r#"up{job="x"}"#.to_owned()), "instance".to_owned()))
    );
    assert_eq!(
        parse_label_values("label_values(job)"),
        Some((None, "job".to_owned()))
    );
    assert_eq!(parse_label_values("query_result(up)"), None);
    assert_eq!(regex_escape("127.0.0.1:9464"), r"127\\.0\\.0\\.1:9464");
}

#[test]
fn no_data_means_empty_or_nan_only() {
    assert!(lacks_data(&[]).is_some());
    assert!(lacks_data(&[json!({"value": [1, "NaN"]})]).is_some());
    assert!(lacks_data(&[json!({"value": [1, "NaN"]}), json!({"value": [1, "0"]})]).is_none());
}
