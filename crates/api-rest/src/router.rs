//! Dispatch: a path becomes a [`Route`] (with the pattern that labels its
//! metrics and the methods it takes), and a route and method go to one
//! handler. An unknown path is a route too (`Unknown`), not an error.

use crate::error::ApiError;
use crate::handlers::{computers, health, metrics, preparation, refresh, sessions};
use crate::parts::ApiParts;
use crate::query::percent_decode;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Body;
use hyper::{Method, Request, Response};

/// Every path the API knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// `/v1/health`
    Health,
    /// `/v1/computers`
    Computers,
    /// `/v1/sessions`
    Sessions,
    /// `/v1/sessions/{id}`, with the decoded id.
    Session(String),
    /// `/v1/projects`
    Projects,
    /// `/v1/projects-with-todos`
    ProjectsWithTodos,
    /// `/v1/todos`
    Todos,
    /// `/v1/refresh`
    Refresh,
    /// `/metrics`
    Metrics,
    /// `/v1/ws`
    Ws,
    /// Anything else.
    Unknown,
}

impl Route {
    /// The route of `path`.
    pub(crate) fn parse(path: &str) -> Self {
        match path {
            "/v1/health" => Self::Health,
            "/v1/computers" => Self::Computers,
            "/v1/sessions" => Self::Sessions,
            "/v1/projects" => Self::Projects,
            "/v1/projects-with-todos" => Self::ProjectsWithTodos,
            "/v1/todos" => Self::Todos,
            "/v1/refresh" => Self::Refresh,
            "/metrics" => Self::Metrics,
            "/v1/ws" => Self::Ws,
            other => match other.strip_prefix("/v1/sessions/") {
                Some(id) if !id.is_empty() && !id.contains('/') => {
                    percent_decode(id, false).map_or(Self::Unknown, Self::Session)
                }
                _ => Self::Unknown,
            },
        }
    }

    /// The pattern that labels the route's metrics (never the raw path,
    /// so the label set stays small).
    pub(crate) fn pattern(&self) -> &'static str {
        match self {
            Self::Health => "/v1/health",
            Self::Computers => "/v1/computers",
            Self::Sessions => "/v1/sessions",
            Self::Session(_) => "/v1/sessions/{id}",
            Self::Projects => "/v1/projects",
            Self::ProjectsWithTodos => "/v1/projects-with-todos",
            Self::Todos => "/v1/todos",
            Self::Refresh => "/v1/refresh",
            Self::Metrics => "/metrics",
            Self::Ws => "/v1/ws",
            Self::Unknown => "unknown",
        }
    }

    /// The methods the route takes, as the `Allow` header lists them.
    pub(crate) fn allow(&self) -> &'static str {
        match self {
            Self::Sessions => "GET, POST",
            Self::Session(_) => "GET, PATCH, DELETE",
            Self::Refresh => "POST",
            _ => "GET",
        }
    }
}

/// Answers one request for `route` (everything but a live WebSocket
/// upgrade, which `server.rs` hands to the upgrader before this).
pub(crate) async fn dispatch<B>(
    api: &ApiParts,
    route: Route,
    req: Request<B>,
) -> Result<Response<Full<Bytes>>, ApiError>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (parts, body) = req.into_parts();
    let query = parts.uri.query();
    let method = &parts.method;
    match route {
        Route::Unknown => Err(ApiError::NotFound(format!(
            "no such path {:?}",
            parts.uri.path()
        ))),
        Route::Health if method == Method::GET => health::get(api, query),
        Route::Computers if method == Method::GET => computers::list(api, query),
        Route::Sessions if method == Method::GET => sessions::list(api, query),
        Route::Sessions if method == Method::POST => {
            sessions::create(api, query, &parts.headers, body).await
        }
        Route::Session(id) if method == Method::GET => sessions::get(api, query, &id),
        Route::Session(id) if method == Method::PATCH => {
            sessions::update(api, query, &id, &parts.headers, body).await
        }
        Route::Session(id) if method == Method::DELETE => sessions::end(api, query, &id).await,
        Route::Projects if method == Method::GET => preparation::projects(api, query),
        Route::ProjectsWithTodos if method == Method::GET => {
            preparation::projects_with_todos(api, query)
        }
        Route::Todos if method == Method::GET => preparation::todos(api, query),
        Route::Refresh if method == Method::POST => {
            refresh::post(api, query, &parts.headers, body).await
        }
        Route::Metrics if method == Method::GET => metrics::get(api, query),
        Route::Ws if method == Method::GET => Err(if api.upgrader.is_some() {
            ApiError::BadRequest("GET /v1/ws must be a WebSocket upgrade request".into())
        } else {
            ApiError::NotFound("this daemon serves no WebSocket endpoint".into())
        }),
        other => Err(ApiError::MethodNotAllowed {
            method: method.to_string(),
            allow: other.allow(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_routes() {
        assert_eq!(Route::parse("/v1/health"), Route::Health);
        assert_eq!(
            Route::parse("/v1/sessions/abc%2Dd"),
            Route::Session("abc-d".into())
        );
        for unknown in [
            "/",
            "/v1",
            "/v1/sessions/",
            "/v1/sessions/a/b",
            "/v1/sessions/%zz",
            "/v2/health",
        ] {
            assert_eq!(Route::parse(unknown), Route::Unknown, "{unknown}");
        }
        assert_eq!(Route::Session("x".into()).pattern(), "/v1/sessions/{id}");
    }
}
