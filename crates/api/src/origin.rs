//! Whether a browser request comes from the page it is addressed to. A
//! request that changes state, and every WebSocket upgrade, is refused when
//! the browser says it comes from another origin (`Origin`) or another site
//! or origin (`Sec-Fetch-Site`). Cookies alone cannot tell: apps on sibling
//! host names (`a.localhost`, `b.localhost`) are one *site*, so SameSite
//! cookies travel between them. Clients that send neither header (curl,
//! scripts) are not browsers acting for someone else, and pass.

use axum::http::{header, HeaderMap, Method};

/// Whether `method` may change state (everything but GET, HEAD, OPTIONS).
pub fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether the request is a WebSocket (or other) upgrade.
pub fn is_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(header::UPGRADE)
}

/// `host[:port]` in lower case with the scheme's default port made explicit.
fn authority(host: &str, scheme: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    let has_port = match host.rfind(':') {
        Some(i) => host.rfind(']').is_none_or(|j| i > j),
        None => false,
    };
    if has_port {
        host
    } else {
        let port = if scheme == "https" || scheme == "wss" {
            443
        } else {
            80
        };
        format!("{host}:{port}")
    }
}

/// Why the request does not come from its own origin (`None`: it does, or
/// the client is no browser). `host` is the authority the request was
/// addressed to (its `Host` header).
pub fn foreign(headers: &HeaderMap, host: &str) -> Option<&'static str> {
    if let Some(site) = headers.get("sec-fetch-site") {
        if !matches!(site.as_bytes(), b"same-origin" | b"none") {
            return Some("The request comes from another site or origin (Sec-Fetch-Site).");
        }
    }
    let origin = headers.get(header::ORIGIN)?;
    let Some((scheme, rest)) = origin.to_str().ok().and_then(|o| o.split_once("://")) else {
        return Some("The request's Origin is opaque or unreadable.");
    };
    if authority(rest.trim_end_matches('/'), scheme) == authority(host, scheme) {
        None
    } else {
        Some("The request comes from another origin (Origin).")
    }
}

/// The authority a request was addressed to: its `Host` header, else the
/// URI's (HTTP/2).
pub fn host_of(headers: &HeaderMap, uri: &axum::http::Uri) -> String {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| uri.authority().map(|a| a.to_string()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_the_page_itself_passes() {
        let host = "127.0.0.1:8080";
        assert_eq!(foreign(&headers(&[]), host), None, "no browser headers");
        assert_eq!(
            foreign(&headers(&[("origin", "http://127.0.0.1:8080")]), host),
            None
        );
        assert_eq!(
            foreign(
                &headers(&[
                    ("origin", "http://127.0.0.1:8080"),
                    ("sec-fetch-site", "same-origin")
                ]),
                host
            ),
            None
        );
        for bad in [
            vec![("origin", "http://evil.example")],
            vec![("origin", "http://127.0.0.1:8081")],
            vec![("origin", "null")],
            vec![("origin", "http://abc.localhost:8080")],
            vec![("sec-fetch-site", "same-site")],
            vec![("sec-fetch-site", "cross-site")],
            vec![
                ("origin", "http://127.0.0.1:8080"),
                ("sec-fetch-site", "same-site"),
            ],
        ] {
            assert!(foreign(&headers(&bad), host).is_some(), "{bad:?}");
        }
        // default ports are the same origin with or without them
        assert_eq!(
            foreign(
                &headers(&[("origin", "https://berth.example.org")]),
                "berth.example.org:443"
            ),
            None
        );
        assert_eq!(
            foreign(
                &headers(&[("origin", "https://Berth.example.org:443")]),
                "berth.example.org"
            ),
            None
        );
        assert!(foreign(
            &headers(&[("origin", "https://berth.example.org")]),
            "berth.example.org:80"
        )
        .is_some());
        assert_eq!(
            foreign(&headers(&[("origin", "http://[::1]:8080")]), "[::1]:8080"),
            None
        );
        assert!(changes_state(&Method::POST) && !changes_state(&Method::GET));
    }
}
