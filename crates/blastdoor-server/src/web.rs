//! The approval UI (`blastdoor-web`, an axum router under `/ui`) served by the gateway's own
//! listener: [`WebUi`] adapts the router to [`blastdoor_gateway::Mounted`]. The gateway reads
//! the request (framing checks, body limit) before the UI sees it; the UI's answer is buffered
//! (its pages are small) and sent as it is.

use std::sync::Arc;

use blastdoor_approval::HoldStore;
use blastdoor_gateway::response::full_body;
use blastdoor_gateway::{Mounted, MountedFuture};
use blastdoor_web::{CookieSecurity, WebConfig, WebState};
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use tower::ServiceExt as _;

/// The largest UI answer passed on; anything bigger is a bug, answered 500.
const MAX_UI_RESPONSE: usize = 16 * 1024 * 1024;

/// The approval UI, mounted at `/ui`.
pub(crate) struct WebUi {
    router: axum::Router,
}

impl WebUi {
    /// The UI over `store` and the ledger at `ledger_file`, for browsers at `public_origin`
    /// (`scheme://host:port`). The session cookie is `Secure` unless the origin is plain
    /// `http://`, which only makes sense on loopback.
    pub(crate) fn new(
        store: Arc<HoldStore>,
        ledger_file: &std::path::Path,
        public_origin: &str,
    ) -> Result<WebUi, String> {
        let cookie_security = if public_origin.starts_with("https://") {
            CookieSecurity::SecureOnly
        } else {
            CookieSecurity::DangerousPlainHttp
        };
        let state = WebState::with_ledger_path(
            store,
            ledger_file.to_owned(),
            WebConfig::new(public_origin, cookie_security),
            WebState::system_clock(),
        )
        .map_err(|error| error.to_string())?;
        Ok(WebUi {
            router: blastdoor_web::router(state),
        })
    }
}

impl Mounted for WebUi {
    fn handle(&self, request: Request<Bytes>) -> MountedFuture {
        let router = self.router.clone();
        Box::pin(async move {
            let request = request.map(axum::body::Body::from);
            let response = match router.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            let (parts, body) = response.into_parts();
            match axum::body::to_bytes(body, MAX_UI_RESPONSE).await {
                Ok(bytes) => Response::from_parts(parts, full_body(bytes)),
                Err(error) => {
                    tracing::error!(%error, "the approval UI's answer could not be read");
                    let mut response = Response::new(full_body("internal error\n"));
                    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                    response
                }
            }
        })
    }
}
