//! The load a user's clients put on the example server while Prometheus scrapes it.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use ws_observe::tokio_tungstenite::connect_async;
use ws_observe::tokio_tungstenite::tungstenite::Message;

/// What a user's clients do to the server for ~20 s: a long-lived connection that answers the
/// server's keepalive ping (sent after 20 s) and pings it, short connections whose messages
/// fail one call in two, a binary message, connections dropped without a close frame, and
/// requests that are not WebSocket handshakes.
pub async fn drive_load(ws_url: String, ws_addr: SocketAddr) {
    let keepalive = tokio::spawn({
        let url = ws_url.clone();
        async move {
            let (mut websocket, _) = connect_async(url.as_str()).await.expect("connect");
            websocket
                .send(Message::text("hello, I stay"))
                .await
                .unwrap();
            // Read until the server's keepalive ping (due 20 s after the connection opened);
            // reading queues tungstenite's pong, the next write flushes it.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(35);
            loop {
                let next = tokio::time::timeout_at(deadline, websocket.next())
                    .await
                    .expect("no keepalive ping from the server within 35 s");
                match next {
                    Some(Ok(Message::Ping(_))) => break,
                    Some(Ok(_)) => {}
                    other => panic!("keepalive connection ended: {other:?}"),
                }
            }
            websocket
                .send(Message::Ping(b"client ping".to_vec().into()))
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(300)).await;
            websocket.close(None).await.unwrap();
            while websocket.next().await.is_some() {}
        }
    });

    let start = tokio::time::Instant::now();
    let mut round = 0u32;
    while start.elapsed() < Duration::from_secs(19) {
        let (mut websocket, _) = connect_async(ws_url.as_str()).await.expect("connect");
        let messages = [
            Message::text("fail"),
            Message::text(format!("upper round {round}")),
            Message::text("fail"),
            Message::binary(vec![round as u8; 64]),
            Message::text("fail"),
            Message::text("echo me"),
        ];
        let expected = messages.len();
        for message in messages {
            websocket.send(message).await.unwrap();
        }
        websocket
            .send(Message::Ping(b"p".to_vec().into()))
            .await
            .unwrap();
        let mut replies = 0;
        while replies < expected {
            match websocket.next().await {
                Some(Ok(Message::Text(_) | Message::Binary(_))) => replies += 1,
                Some(Ok(_)) => {}
                other => panic!("round {round}: {other:?}"),
            }
        }
        websocket.close(None).await.unwrap();
        while websocket.next().await.is_some() {}
        round += 1;
        tokio::time::sleep(Duration::from_millis(400)).await;
    }

    for _ in 0..2 {
        // Dropped without a close frame: an abnormal close.
        let (mut websocket, _) = connect_async(ws_url.as_str()).await.expect("connect");
        websocket.send(Message::text("bye")).await.unwrap();
        websocket.next().await.unwrap().unwrap();
        drop(websocket);
        // Not a WebSocket handshake: a handshake failure.
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut tcp = tokio::net::TcpStream::connect(ws_addr).await.unwrap();
        tcp.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        let _ = tcp.read_to_end(&mut answer).await;
    }
    keepalive.await.unwrap();
}
