//! Server function requests refused before a server function runs: a body declared larger than
//! the limit is answered here, in the script API's JSON error shape and with its status, where the
//! refusal is made. (Everything else a server function refuses is answered by the server function
//! itself: `app::error`.)

use app::error::AppError;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::router::MAX_BODY_BYTES;

/// `/api/...` requests whose `Content-Length` is over [`MAX_BODY_BYTES`] get the `too_large`
/// error naming the body; a body that turns out longer than it said is cut off by the body limit
/// and refused by the server function as a body it could not read.
pub async fn refuse_oversize_api(request: Request, next: Next) -> Response {
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if request.uri().path().starts_with("/api/") && declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return AppError::new(
            "too_large",
            format!("body: the request is larger than the limit of {MAX_BODY_BYTES} bytes"),
            Some("body"),
        )
        .into_response();
    }
    next.run(request).await
}
