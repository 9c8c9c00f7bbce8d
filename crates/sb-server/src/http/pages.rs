//! The screens: the agent desktop, the supervisor dashboard, the customer's chat widget and
//! the sign-in page. Plain HTML, CSS and ES modules compiled into the binary; no build step.
//! Pages read everything through the public API with the session cookie (or, for the chat,
//! the chat's own credential).

use axum::extract::Path;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::AppState;

/// Files under `/static/`: name, content type, content.
const STATIC: [(&str, &str, &str); 7] = [
    ("app.css", "text/css; charset=utf-8", include_str!("../../web/app.css")),
    ("api.js", "text/javascript; charset=utf-8", include_str!("../../web/api.js")),
    ("login.js", "text/javascript; charset=utf-8", include_str!("../../web/login.js")),
    ("agent.js", "text/javascript; charset=utf-8", include_str!("../../web/agent.js")),
    ("supervisor.js", "text/javascript; charset=utf-8", include_str!("../../web/supervisor.js")),
    ("chat.js", "text/javascript; charset=utf-8", include_str!("../../web/chat.js")),
    ("favicon.svg", "image/svg+xml", FAVICON),
];

const FAVICON: &str = "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'><rect width='16' height='16' rx='3' fill='#2456d6'/><path d='M4 5h8M4 8h8M4 11h5' stroke='#fff' stroke-width='1.6'/></svg>";

/// Only our own scripts, styles and connections; no framing except of the chat widget.
const CSP: &str =
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
const CSP_EMBEDDABLE: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn page(html: String, csp: &'static str) -> Response {
    let mut response = Html(html).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

pub(super) async fn index(State(state): State<AppState>) -> Response {
    let mut tenants: Vec<(&String, &String)> = state.tenants.iter().map(|(id, t)| (id, &t.name)).collect();
    tenants.sort();
    let links = tenants
        .iter()
        .map(|(id, name)| format!("<a href=\"/chat/{}\">{}</a>", escape(id), escape(name)))
        .collect::<Vec<_>>()
        .join(", ");
    page(include_str!("../../web/index.html").replace("{{chat_links}}", &links), CSP)
}

pub(super) async fn login(State(state): State<AppState>) -> Response {
    // With a single tenant, its id is filled in.
    let only = if state.tenants.len() == 1 { state.tenants.keys().next().cloned() } else { None };
    let html = include_str!("../../web/login.html").replace("{{default_tenant}}", &escape(&only.unwrap_or_default()));
    page(html, CSP)
}

pub(super) async fn agent() -> Response {
    page(include_str!("../../web/agent.html").to_string(), CSP)
}

pub(super) async fn supervisor() -> Response {
    page(include_str!("../../web/supervisor.html").to_string(), CSP)
}

/// The customer's chat page of a tenant; it may be embedded in the tenant's web site.
pub(super) async fn chat(State(state): State<AppState>, Path(tenant): Path<String>) -> Response {
    let Some(handle) = state.tenant(&tenant) else {
        return (StatusCode::NOT_FOUND, Html(format!("<p>No contact center {:?} here.</p>", escape(&tenant))))
            .into_response();
    };
    let html = include_str!("../../web/chat.html")
        .replace("{{tenant_name}}", &escape(&handle.name))
        .replace("{{tenant}}", &escape(&tenant));
    page(html, CSP_EMBEDDABLE)
}

pub(super) async fn file(Path(name): Path<String>) -> Response {
    match STATIC.iter().find(|(n, _, _)| *n == name) {
        Some((_, kind, body)) => {
            let mut response = (*body).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            response
        }
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_in_pages() {
        assert_eq!(
            escape(r#"<a href="x">O'Brien & Co</a>"#),
            "&lt;a href=&quot;x&quot;&gt;O&#39;Brien &amp; Co&lt;/a&gt;"
        );
    }

    #[test]
    fn every_script_a_page_loads_is_served() {
        let pages = [
            include_str!("../../web/agent.html"),
            include_str!("../../web/supervisor.html"),
            include_str!("../../web/chat.html"),
            include_str!("../../web/login.html"),
        ];
        let scripts = STATIC.iter().map(|(n, ..)| format!("/static/{n}")).collect::<Vec<_>>();
        for html in pages {
            for src in html.split("src=\"").skip(1).filter_map(|s| s.split('"').next()) {
                assert!(scripts.iter().any(|s| s == src), "{src} is not served");
            }
        }
        for (_, _, js) in STATIC {
            for import in js.split("from \"").skip(1).filter_map(|s| s.split('"').next()) {
                assert!(scripts.iter().any(|s| s == import), "{import} is not served");
            }
        }
    }
}
