//! The JSON API for scripts and dashboards: `GET /ui/api/holds` (pending and approved holds,
//! only one agent's with `?agent=NAME`, and how many wait per agent and in all) and
//! `GET /ui/api/holds/{id}`. Both need a logged-in session; answers are the stored holds
//! with the state as of now; the request is always the redacted view
//! ([`blastdoor_approval::redacted_request_json`]), never the stored body.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use blastdoor_approval::{Hold, PendingCount};
use blastdoor_core::HoldId;
use serde::Serialize;

use crate::error::ApiError;
use crate::pages::{AgentFilter, blocking};
use crate::{WebError, WebState, session, view};

/// A hold and what it means now: the hold's fields, with `request` replaced by its redacted
/// view.
#[derive(Debug, Serialize)]
pub struct HoldView {
    #[serde(flatten)]
    hold: serde_json::Map<String, serde_json::Value>,
    /// `pending`, `approved`, `cooling off`, `expired`, ... as of the answer.
    state_now: &'static str,
}

#[derive(Debug, Serialize)]
pub struct HoldList {
    now: i64,
    holds: Vec<HoldView>,
    /// How many holds wait for a decision, in all (every agent's, whatever the filter).
    pending: u64,
    /// The same per agent, most first.
    pending_by_agent: Vec<PendingCount>,
}

pub async fn holds(
    State(state): State<WebState>,
    Query(filter): Query<AgentFilter>,
    headers: HeaderMap,
) -> Result<Json<HoldList>, ApiError> {
    let now = state.now();
    session::current(&state.sessions, &headers, now)?;
    let store = state.store.clone();
    let (mut holds, counts) =
        blocking(move || Ok((store.holds(false)?, store.pending_counts(now)?))).await?;
    filter.apply(&mut holds);
    let holds = holds
        .into_iter()
        .map(|hold| HoldView::new(&hold, now))
        .collect::<Result<_, _>>()?;
    Ok(Json(HoldList {
        now,
        holds,
        pending: counts.iter().map(|count| count.pending).sum(),
        pending_by_agent: counts,
    }))
}

pub async fn hold(
    State(state): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<HoldView>, ApiError> {
    let now = state.now();
    session::current(&state.sessions, &headers, now)?;
    let id = HoldId::new(&id).map_err(|_| WebError::UnknownHold(id.chars().take(80).collect()))?;
    let store = state.store.clone();
    let hold = blocking(move || Ok(store.hold(id.as_str())?)).await?;
    Ok(Json(HoldView::new(&hold, now)?))
}

impl HoldView {
    fn new(hold: &Hold, now: i64) -> Result<HoldView, WebError> {
        let mut fields = match serde_json::to_value(hold) {
            Ok(serde_json::Value::Object(fields)) => fields,
            Ok(_) | Err(_) => return Err(WebError::Internal("a hold did not serialise".into())),
        };
        fields.insert(
            "request".to_owned(),
            blastdoor_approval::redacted_request_json(&hold.request),
        );
        Ok(HoldView {
            hold: fields,
            state_now: view::state_now(hold, now),
        })
    }
}
