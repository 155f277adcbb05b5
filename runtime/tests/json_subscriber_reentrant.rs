//! A value whose `Display` logs while `JsonSubscriber` records it: the event reads the very span
//! being recorded. Only the global dispatcher calls the subscriber again from inside itself
//! (a scoped one drops such events), so this test has a process of its own.

mod common;

use serde_json::Value;
use ws_observe_runtime::logs::JsonSubscriber;

/// A value whose `Display` logs, as a careless `Display` impl may.
struct Chatty;

impl std::fmt::Display for Chatty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        tracing::info!("formatting a chatty value");
        f.write_str("chatty")
    }
}

#[test]
fn a_value_that_logs_while_it_is_recorded_does_not_deadlock() {
    let lines = common::Lines::default();
    let writer = lines.clone();
    let subscriber = JsonSubscriber::new(move || writer.clone(), "svc", "trace".parse().unwrap());
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let span = tracing::info_span!("s", opened = %Chatty, later = tracing::field::Empty);
    let _entered = span.enter();
    span.record("later", tracing::field::display(Chatty));
    tracing::info!("done");

    let lines = lines.parsed();
    let done = lines.iter().find(|l| l["message"] == "done").unwrap();
    assert_eq!(done["opened"], "chatty");
    assert_eq!(done["later"], "chatty");
    let chatty: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "formatting a chatty value")
        .collect();
    assert_eq!(chatty.len(), 2, "{lines:?}");
    // Logged while `later` was being recorded: inside the span, which already had `opened`.
    assert_eq!(chatty[1]["opened"], "chatty");
}
