//! The HTTP sinks and the OTLP/HTTP exporter speak TLS (rustls) to `https://` URLs: a
//! listener on loopback sees a TLS ClientHello, not plain HTTP.

use std::io::Read;
use std::net::TcpListener;

use ws_observe_runtime::alert::sinks::WebhookSink;
use ws_observe_runtime::alert::{Alert, AlertSink, Notification, Severity};

#[test]
fn https_urls_are_spoken_to_in_tls() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let first_bytes = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut header = [0u8; 3];
        stream.read_exact(&mut header).unwrap();
        header
    });
    let sink = WebhookSink::new(&format!("https://127.0.0.1:{port}/hook"), "svc").unwrap();
    let alert = Alert::new(Severity::Info, "tls check");
    // The handshake cannot complete (nobody answers it): the delivery fails, as it should.
    assert!(sink.notify(&Notification::Firing(&alert)).is_err());
    let header = first_bytes.join().unwrap();
    // A TLS record of type handshake (0x16), version 3.x: a ClientHello.
    assert_eq!(header[0], 0x16, "{header:?}");
    assert_eq!(header[1], 0x03, "{header:?}");
}
