//! Request paths: the path templates of the served operations (the
//! `x-airbyte-path-override` path, else the path key without any `?query` part), the
//! `servers[0]` URL's path prefix, and matching a request to one operation.
//!
//! A template segment may mix literals and parameters (`{ticket_id}.json`,
//! `values:batchGet`). A request path is matched as received and, when that fails, with the
//! server URL's path prefix (`/api/v2` of `https://{workspace}.example.com/api/{version}`)
//! stripped, so both `/api/v2/projects` and `/projects` reach the same operation; a
//! variable in the prefix matches any one segment.
//!
//! Routes are per method: `GET` operations, `POST` reads (list, get and search with a
//! JSON body), writes on `POST`, `PUT`, `PATCH` and `DELETE`, GraphQL operations on `POST`,
//! and downloads on `GET` or `POST`; a path served only for some methods is a 404 for the
//! others.
//!
//! Several operations can share one template and method (virtual keys over one real
//! path). Then the most literal template wins; among equals, the operations whose constants
//! agree with the request are kept: constant query parameters (required with a default, a
//! single-value enum, or the `?k=v` of a virtual key) compared with the query, and body
//! properties with a default (or a single-value enum) compared with the JSON body's
//! top-level members (a generated client always sends body defaults). The one with the
//! most constants present in the request wins, and on a tie (or when none agrees) the
//! first in spec order. A download always sends its optional query defaults too, so those
//! count among its constants (`alt=media` picks the download of `GET /files/{id}` over the
//! get). GraphQL operations sharing an endpoint are told apart by the body's `query`
//! instead (see `graphql.rs`); a query matching none reaches [`Target::GraphqlUnmatched`].

use super::graphql::Pattern;
use super::spec::percent_decode;

/// A piece of a template segment.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Must match literally (compared with the raw request text).
    Lit(String),
    /// Captures a non-empty, percent-decoded part under this name.
    Param(String),
}

/// A parsed path template.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    segs: Vec<Vec<Piece>>,
    /// Characters of literal text: more literal templates win over templated ones.
    weight: usize,
}

impl Template {
    /// Parses `/a/{b}/c{d}.json` (a leading `/` is optional).
    pub(crate) fn parse(path: &str) -> Template {
        let path = path.strip_prefix('/').unwrap_or(path);
        let segs: Vec<Vec<Piece>> = path.split('/').map(parse_seg).collect();
        let weight = segs
            .iter()
            .flatten()
            .map(|p| match p {
                Piece::Lit(l) => l.len() + 1,
                Piece::Param(_) => 0,
            })
            .sum::<usize>()
            + segs.len();
        Template { segs, weight }
    }

    /// Parameter names, in order.
    pub(crate) fn params(&self) -> Vec<String> {
        self.segs
            .iter()
            .flatten()
            .filter_map(|p| match p {
                Piece::Param(n) => Some(n.clone()),
                Piece::Lit(_) => None,
            })
            .collect()
    }

    /// Matches raw request segments; returns the decoded parameters.
    fn matches(&self, parts: &[&str]) -> Option<Vec<(String, String)>> {
        if parts.len() != self.segs.len() {
            return None;
        }
        let mut out = Vec::new();
        for (pieces, part) in self.segs.iter().zip(parts) {
            if !match_seg(pieces, part, &mut out) {
                return None;
            }
        }
        Some(
            out.into_iter()
                .map(|(k, v)| (k, percent_decode(&v)))
                .collect(),
        )
    }
}

fn parse_seg(seg: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut rest = seg;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| c + open) else {
            break;
        };
        if open > 0 {
            pieces.push(Piece::Lit(rest[..open].to_string()));
        }
        pieces.push(Piece::Param(rest[open + 1..close].to_string()));
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() || pieces.is_empty() {
        pieces.push(Piece::Lit(rest.to_string()));
    }
    pieces
}

/// Matches one raw segment against its pieces (parameters capture at least one character;
/// every split is tried, so `{id}.json` takes the last `.json`).
fn match_seg(pieces: &[Piece], s: &str, out: &mut Vec<(String, String)>) -> bool {
    let Some((first, rest)) = pieces.split_first() else {
        return s.is_empty();
    };
    match first {
        Piece::Lit(l) => s
            .strip_prefix(l.as_str())
            .is_some_and(|tail| match_seg(rest, tail, out)),
        Piece::Param(name) => {
            if rest.is_empty() {
                if s.is_empty() {
                    return false;
                }
                out.push((name.clone(), s.to_string()));
                return true;
            }
            let mut ends: Vec<usize> = s.char_indices().map(|(i, _)| i).skip(1).collect();
            ends.push(s.len());
            for end in ends.into_iter().rev() {
                let mark = out.len();
                out.push((name.clone(), s[..end].to_string()));
                if match_seg(rest, &s[end..], out) {
                    return true;
                }
                out.truncate(mark);
            }
            false
        }
    }
}

/// The HTTP method a route answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    /// `GET`.
    Get,
    /// `POST` (reads with a JSON body, and writes).
    Post,
    /// `PUT` (writes).
    Put,
    /// `PATCH` (writes).
    Patch,
    /// `DELETE` (writes).
    Delete,
}

impl Verb {
    /// The verb of a spec's method key (`get`, `post`, ...), case-insensitively.
    pub(crate) fn parse(method: &str) -> Option<Verb> {
        Some(match method.to_ascii_lowercase().as_str() {
            "get" => Verb::Get,
            "post" => Verb::Post,
            "put" => Verb::Put,
            "patch" => Verb::Patch,
            "delete" => Verb::Delete,
            _ => return None,
        })
    }
}

/// What a route reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// An operation (index into the catalog's operations).
    Op(usize),
    /// A download (index into the catalog's downloads).
    Download(usize),
    /// A GraphQL endpoint whose operations all have other query texts (or the request
    /// carries no `query`).
    GraphqlUnmatched,
}

/// One served route.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    /// The method.
    pub method: Verb,
    /// The template.
    pub template: Template,
    /// What it reaches.
    pub target: Target,
    /// `(name, value)` pairs a request (its query pairs, plus its body pairs for `POST`)
    /// must not contradict to pick this route among routes sharing its template.
    pub constants: Vec<(String, String)>,
    /// The query template of a GraphQL operation: routes with one are picked by the
    /// request body's `query` (see `graphql.rs`), not by constants.
    pub graphql: Option<Pattern>,
}

/// A matched request.
#[derive(Debug, Clone)]
pub(crate) struct Hit {
    /// What it reaches.
    pub target: Target,
    /// The decoded path parameters.
    pub params: Vec<(String, String)>,
    /// The server prefix the request path carried (`/api/v2`), or empty.
    pub prefix: String,
}

/// The routes, in spec order, plus the server prefix.
#[derive(Debug, Clone, Default)]
pub(crate) struct Router {
    /// Routes in spec order.
    pub routes: Vec<Route>,
    /// Path prefix of `servers[0]` (`None` = a variable segment).
    pub prefix: Vec<Option<String>>,
}

impl Router {
    /// The operation (or download) a `method` request to a raw (still percent-encoded)
    /// path reaches, with its decoded path parameters. `query` holds the decoded query
    /// pairs, and for a `POST` the body's pairs too (for shared templates); `graphql` the
    /// body's GraphQL `query`, if any (for GraphQL endpoints).
    pub(crate) fn find(
        &self,
        method: Verb,
        raw_path: &str,
        query: &[(String, String)],
        graphql: Option<&str>,
    ) -> Option<Hit> {
        let rest = raw_path.strip_prefix('/')?;
        let parts: Vec<&str> = rest.split('/').collect();
        if let Some((target, params)) = self.find_parts(method, &parts, query, graphql) {
            return Some(Hit {
                target,
                params,
                prefix: String::new(),
            });
        }
        let n = self.prefix.len();
        if n > 0 && parts.len() > n && self.is_prefix(&parts[..n]) {
            let (target, params) = self.find_parts(method, &parts[n..], query, graphql)?;
            return Some(Hit {
                target,
                params,
                prefix: format!("/{}", parts[..n].join("/")),
            });
        }
        None
    }

    /// True when these raw segments are the server prefix (a variable matching any one).
    pub(crate) fn is_prefix(&self, parts: &[&str]) -> bool {
        parts.len() == self.prefix.len()
            && self
                .prefix
                .iter()
                .zip(parts)
                .all(|(p, part)| p.as_deref().is_none_or(|lit| lit == *part) && !part.is_empty())
    }

    fn find_parts(
        &self,
        method: Verb,
        parts: &[&str],
        query: &[(String, String)],
        graphql: Option<&str>,
    ) -> Option<(Target, Vec<(String, String)>)> {
        let mut hits: Vec<(&Route, Vec<(String, String)>)> = self
            .routes
            .iter()
            .filter(|r| r.method == method)
            .filter_map(|r| r.template.matches(parts).map(|p| (r, p)))
            .collect();
        let best = hits.iter().map(|(r, _)| r.template.weight).max()?;
        hits.retain(|(r, _)| r.template.weight == best);
        if hits.iter().any(|(r, _)| r.graphql.is_some()) {
            // A GraphQL endpoint: the operation whose query template the body's query
            // matches, the most literal first.
            let params = hits[0].1.clone();
            let found = graphql.and_then(|q| {
                hits.iter()
                    .filter_map(|(r, _)| Some((r, r.graphql.as_ref()?)))
                    .filter(|(_, pat)| pat.matches(q))
                    .fold(None, |best: Option<(&Route, usize)>, (r, pat)| match best {
                        Some((_, w)) if w >= pat.weight() => best,
                        _ => Some((r, pat.weight())),
                    })
            });
            return Some(match found {
                Some((r, _)) => (r.target, params),
                None => (Target::GraphqlUnmatched, params),
            });
        }
        if hits.len() > 1 {
            let score = |r: &Route| -> Option<usize> {
                let mut n = 0;
                for (k, v) in &r.constants {
                    match query.iter().find(|(qk, _)| qk == k) {
                        Some((_, qv)) if qv == v => n += 1,
                        Some(_) => return None,
                        None => {}
                    }
                }
                Some(n)
            };
            let mut pick = 0;
            let mut pick_score = None;
            for (i, (r, _)) in hits.iter().enumerate() {
                let s = score(r);
                if s > pick_score {
                    pick = i;
                    pick_score = s;
                }
            }
            let (r, p) = hits.swap_remove(pick);
            return Some((r.target, p));
        }
        hits.pop().map(|(r, p)| (r.target, p))
    }
}

/// The path prefix of a server URL: `https://{w}.example.com/api/{version}` →
/// `[Some("api"), None]`; `{origin}/t/{sub}/api` → `[Some("t"), None, Some("api")]`.
pub(crate) fn server_prefix(url: &str) -> Vec<Option<String>> {
    let url = url.split(['?', '#']).next().unwrap_or("");
    let after_origin = if let Some(i) = url.find("://") {
        let rest = &url[i + 3..];
        rest.find('/').map_or("", |j| &rest[j..])
    } else if url.starts_with('{') {
        // A variable holding a whole origin.
        url.find('}').map_or("", |j| &url[j + 1..])
    } else {
        url
    };
    after_origin
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| (!s.contains('{')).then(|| s.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(t: &str, path: &str) -> Option<Vec<(String, String)>> {
        let parts: Vec<&str> = path.strip_prefix('/').unwrap().split('/').collect();
        Template::parse(t).matches(&parts)
    }

    #[test]
    fn templates() {
        let p = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
        assert_eq!(
            m("/v2/incidents/{id}", "/v2/incidents/a%2Fb"),
            Some(p("id", "a/b"))
        );
        assert_eq!(m("/v2/incidents/{id}", "/v2/incidents/"), None);
        assert_eq!(m("/t/{id}.json", "/t/a.json.json"), Some(p("id", "a.json")));
        assert_eq!(m("/t/{id}.json", "/t/.json"), None);
        assert_eq!(m("/s/values:batchGet", "/s/values:batchGet"), Some(vec![]));
        assert_eq!(m("/x/{id}/detail/", "/x/1/detail/"), Some(p("id", "1")));
        assert_eq!(m("/x/{id}/detail/", "/x/1/detail"), None);
    }

    #[test]
    fn prefixes() {
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            server_prefix("https://{workspace}.example.com/api/{version}"),
            vec![s("api"), None]
        );
        assert_eq!(
            server_prefix("{origin}/t/{subdomain}/api"),
            vec![s("t"), None, s("api")]
        );
        assert_eq!(server_prefix("https://api.incident.io"), vec![]);
        assert_eq!(server_prefix("https://x.example.com/v2/"), vec![s("v2")]);
    }
}
