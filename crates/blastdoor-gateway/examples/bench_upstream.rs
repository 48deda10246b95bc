//! A minimal, fast HTTP/1.1 upstream for `scripts/bench-gateway`: answers every request with
//! the same small GraphQL response, so the benchmark measures the proxies in front of it, not
//! the upstream. Usage: `bench_upstream 127.0.0.1:PORT` (port 0 picks one; the address is
//! printed on stdout as `listening on ADDR`).

use std::convert::Infallible;

use bytes::Bytes;
use http::{Response, header};
use http_body_util::{BodyExt as _, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

const ANSWER: &str =
    r#"{"data":{"me":{"id":"user-bench","name":"bench","email":"bench@example.com"}}}"#;

fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&address).await?;
        println!("listening on {}", listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service =
                    service_fn(|request: http::Request<hyper::body::Incoming>| async move {
                        // Read the body so the connection can be reused.
                        let _ = request.into_body().collect().await;
                        let mut response =
                            Response::new(Full::new(Bytes::from_static(ANSWER.as_bytes())));
                        response.headers_mut().insert(
                            header::CONTENT_TYPE,
                            header::HeaderValue::from_static("application/json"),
                        );
                        Ok::<_, Infallible>(response)
                    });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}
