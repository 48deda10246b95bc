//! A minimal HTTP/1.1 client for the tests (one request per connection) and a running
//! simulator that stops when dropped.

use std::net::SocketAddr;

use blastdoor_sim::SimState;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub struct Running {
    pub addr: SocketAddr,
    pub state: SimState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub async fn start(state: SimState) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(blastdoor_sim::serve(listener, state.clone(), async move {
        let _ = stopped.await;
    }));
    Running {
        addr,
        state,
        stop: Some(stop),
    }
}

pub enum Auth<'a> {
    None,
    Bearer(&'a str),
    Project(&'a str),
}

pub struct Reply {
    pub status: u16,
    pub body: serde_json::Value,
}

pub async fn send(
    addr: SocketAddr,
    method: &str,
    target: &str,
    auth: Auth<'_>,
    body: &[u8],
) -> Reply {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let auth_line = match auth {
        Auth::None => String::new(),
        Auth::Bearer(token) => format!("Authorization: Bearer {token}\r\n"),
        Auth::Project(token) => format!("Project-Access-Token: {token}\r\n"),
    };
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: sim\r\nConnection: close\r\nContent-Type: application/json\r\n{auth_line}Content-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Reply {
        status,
        body: serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
    }
}

pub async fn post(addr: SocketAddr, auth: Auth<'_>, request: serde_json::Value) -> Reply {
    send(
        addr,
        "POST",
        "/graphql/v2",
        auth,
        &serde_json::to_vec(&request).unwrap(),
    )
    .await
}

pub fn fixture(path: &str) -> String {
    let root =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test_data/railway-cli");
    std::fs::read_to_string(root.join(path)).unwrap()
}
