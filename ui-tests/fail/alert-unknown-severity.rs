// A misspelt alert severity is an error at the string that lists the valid severities.
use ws_observe::ws_handler;

#[ws_handler(alert = "critcal")]
fn on_message() {}

fn main() {
    on_message();
}
