//! The gateway's HTTP machinery with nothing to decide, for `scripts/bench-gateway`: the same
//! listener, framing guard, body limits, routing, header handling and upstream client as
//! `blastdoor serve` (connection workers and allocator included), with a pipeline that forwards
//! every request at once (no token, no classification, no policy, no ledger). It is the floor the decision path is measured
//! against, so the benchmark can say how much of blastdoor's cost is the proxy and how much is
//! deciding. Usage: `bench_passthrough 127.0.0.1:PORT http://UPSTREAM` (prints
//! `listening on ADDR`). Never deploy it: it forwards anything.

use std::sync::Arc;
use std::time::Duration;

use blastdoor_gateway::{
    ForwardPlan, Gateway, GatewayError, InboundRequest, Limits, Outcome, Pipeline, RefusedRequest,
    UpstreamKind, UpstreamOutcome, UpstreamRoute,
};

/// The allocator `blastdoor` itself uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug)]
struct ForwardEverything;

impl Pipeline for ForwardEverything {
    type Receipt = ();

    async fn decide(&self, _request: &InboundRequest) -> Result<Outcome<()>, GatewayError> {
        Ok(Outcome::Forward(ForwardPlan {
            credential: None,
            body: None,
            receipt: (),
        }))
    }

    async fn record_response(&self, _receipt: (), _outcome: UpstreamOutcome) {}

    async fn record_refusal(&self, _refused: &RefusedRequest) -> Result<(), GatewayError> {
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let upstream = args
        .next()
        .ok_or("usage: bench_passthrough LISTEN_ADDR UPSTREAM_URL")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let route = UpstreamRoute::new("railway", UpstreamKind::Railway, &upstream)?;
        let limits = Limits {
            max_body_bytes: 1024 * 1024,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
        };
        let client = blastdoor_gateway::forward::new_client()?;
        let gateway = Arc::new(Gateway::new(vec![route], ForwardEverything, limits, client));
        let listener = tokio::net::TcpListener::bind(&listen).await?;
        println!("listening on {}", listener.local_addr()?);
        // Connection workers as `blastdoor serve` runs them: one per core.
        let workers = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1);
        blastdoor_gateway::serve_on(listener, gateway, workers, std::future::pending()).await?;
        Ok(())
    })
}
