//! The SPARQL 1.1 Protocol over HTTP (tiny_http): `/query` (GET, POST
//! `application/sparql-query`, POST form) and `/update` (POST `application/sparql-update`, POST
//! form; refused unless enabled), with content negotiation on `Accept`.
//!
//! Each request is answered by one of a few worker threads. Queries read a snapshot, so they
//! run while an update commits and never see half of one.

use crate::engine::{QueryOptions, SparqlEngine};
use crate::error::QueryError;
use crate::results::{write_results, SolutionsFormat};
use crate::update::LoadPolicy;
use oxrdf::NamedNode;
use oxrdfio::RdfFormat;
use sparesults::QueryResultsFormat;
use spargebra::Query;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tiny_http::{Header, Method, Request, Response, Server};

/// How the endpoint runs.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Address to listen on (loopback by default; port 0 picks a free one).
    pub bind: SocketAddr,
    pub allow_update: bool,
    pub timeout: Option<Duration>,
    pub max_rows: Option<usize>,
    pub threads: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 7878)),
            allow_update: false,
            timeout: Some(Duration::from_secs(30)),
            max_rows: Some(1_000_000),
            threads: 4,
        }
    }
}

const MAX_BODY: u64 = 16 << 20;

/// Serves until the process ends. `ready` receives the bound address (port 0 picks one).
pub fn serve(
    engine: Arc<SparqlEngine>,
    options: ServerOptions,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), QueryError> {
    let server = Server::http(options.bind)
        .map_err(|e| QueryError::InvalidInput(format!("cannot listen on {}: {e}", options.bind)))?;
    let address = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| QueryError::InvalidInput("not an IP address".into()))?;
    ready(address);
    let server = Arc::new(server);
    let workers: Vec<_> = (0..options.threads.max(1))
        .map(|_| {
            let (server, engine, options) =
                (Arc::clone(&server), Arc::clone(&engine), options.clone());
            std::thread::spawn(move || {
                while let Ok(request) = server.recv() {
                    handle(&engine, &options, request);
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.join();
    }
    Ok(())
}

struct Reply {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
}

impl Reply {
    fn text(status: u16, message: impl Into<String>) -> Self {
        let mut body = message.into().into_bytes();
        body.push(b'\n');
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            body,
        }
    }
}

fn handle(engine: &SparqlEngine, options: &ServerOptions, mut request: Request) {
    let reply = answer(engine, options, &mut request).unwrap_or_else(|e| e);
    let header = Header::from_bytes("Content-Type", reply.content_type).expect("a valid header");
    let response = Response::from_data(reply.body)
        .with_status_code(reply.status)
        .with_header(header);
    let _ = request.respond(response);
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// The request body as text, refused with 413 when it is (or says it is) over [`MAX_BODY`].
fn body(request: &mut Request) -> Result<String, Reply> {
    let too_large = |size: &str| {
        Reply::text(
            413,
            format!("the request body is {size}: at most {MAX_BODY} bytes (16 MiB) are read"),
        )
    };
    if let Some(declared) = request.body_length() {
        if declared as u64 > MAX_BODY {
            return Err(too_large(&format!("{declared} bytes")));
        }
    }
    let mut text = String::new();
    request
        .as_reader()
        .take(MAX_BODY + 1)
        .read_to_string(&mut text)
        .map_err(|e| Reply::text(400, format!("cannot read the request body as UTF-8: {e}")))?;
    if text.len() as u64 > MAX_BODY {
        return Err(too_large("larger"));
    }
    Ok(text)
}

/// `(name, value)` pairs of a URL query string or form body.
fn form(text: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect()
}

fn answer(
    engine: &SparqlEngine,
    options: &ServerOptions,
    request: &mut Request,
) -> Result<Reply, Reply> {
    let url = request.url().to_owned();
    let (path, query_string) = url.split_once('?').unwrap_or((&url, ""));
    let mut params = form(query_string);
    let content_type = header(request, "Content-Type")
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    match (path, request.method()) {
        ("/query", Method::Get) => {}
        ("/query", Method::Post) => match content_type.as_str() {
            "application/sparql-query" => params.push(("query".into(), body(request)?)),
            "application/x-www-form-urlencoded" => params.extend(form(&body(request)?)),
            other => {
                return Err(Reply::text(
                    415,
                    format!(
                    "unsupported Content-Type {other:?}: use application/sparql-query or a form"
                ),
                ))
            }
        },
        ("/update", Method::Post) => {
            if !options.allow_update {
                return Err(Reply::text(
                    403,
                    "updates are disabled: start the server with --allow-update",
                ));
            }
            match content_type.as_str() {
                "application/sparql-update" => params.push(("update".into(), body(request)?)),
                "application/x-www-form-urlencoded" => params.extend(form(&body(request)?)),
                other => return Err(Reply::text(415, format!("unsupported Content-Type {other:?}: use application/sparql-update or a form"))),
            }
            let text =
                param(&params, "update").ok_or_else(|| Reply::text(400, "no update given"))?;
            let update = SparqlEngine::parse_update(&text, None).map_err(error_reply)?;
            let summary = engine
                .update(&update, LoadPolicy::Deny)
                .map_err(error_reply)?;
            return Ok(Reply::text(
                200,
                format!("{} inserted, {} removed", summary.inserted, summary.removed),
            ));
        }
        ("/update", _) => return Err(Reply::text(405, "updates are POSTed")),
        ("/query", _) => return Err(Reply::text(405, "queries are sent with GET or POST")),
        ("/", Method::Get) => {
            return Ok(Reply::text(
                200,
                "kale SPARQL endpoint: queries at /query, updates at /update (when enabled)",
            ))
        }
        _ => {
            return Err(Reply::text(
                404,
                format!("nothing at {path}: use /query or /update"),
            ))
        }
    }
    let text = param(&params, "query").ok_or_else(|| Reply::text(400, "no query given"))?;
    let query = SparqlEngine::parse_query(&text, None).map_err(error_reply)?;
    let graphs = |name: &str| -> Result<Vec<NamedNode>, Reply> {
        params
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| {
                NamedNode::new(v).map_err(|e| Reply::text(400, format!("{name} {v:?}: {e}")))
            })
            .collect()
    };
    let query_options = QueryOptions {
        timeout: options.timeout,
        max_rows: options.max_rows,
        default_graphs: graphs("default-graph-uri")?,
        named_graphs: graphs("named-graph-uri")?,
    };
    let accept = header(request, "Accept").unwrap_or("*/*").to_owned();
    let (format, content_type) = negotiate(&query, &accept)?;
    let mut body = Vec::new();
    engine
        .query(&query, &query_options, |results| {
            let (solutions, graph) = match format {
                Negotiated::Solutions(f) => (SolutionsFormat::Standard(f), RdfFormat::NTriples),
                Negotiated::Graph(g) => (SolutionsFormat::Standard(QueryResultsFormat::Json), g),
            };
            write_results(results, solutions, graph, &mut body, query_options.max_rows)
        })
        .map_err(error_reply)?;
    Ok(Reply {
        status: 200,
        content_type,
        body,
    })
}

fn param(params: &[(String, String)], name: &str) -> Option<String> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

fn error_reply(e: QueryError) -> Reply {
    let status = match &e {
        QueryError::Syntax(_) | QueryError::InvalidInput(_) | QueryError::TooManyRows(_) => 400,
        QueryError::Timeout(_) => 503,
        _ => 500,
    };
    Reply::text(status, e.to_string())
}

enum Negotiated {
    Solutions(QueryResultsFormat),
    Graph(RdfFormat),
}

/// The best format the client accepts for this kind of query, by the `Accept` q-values.
fn negotiate(query: &Query, accept: &str) -> Result<(Negotiated, &'static str), Reply> {
    let graph = matches!(query, Query::Construct { .. } | Query::Describe { .. });
    let offers: &[(&str, &'static str)] = if graph {
        &[
            ("application/n-triples", "application/n-triples"),
            ("text/turtle", "text/turtle"),
            ("application/n-quads", "application/n-quads"),
            ("application/trig", "application/trig"),
            ("application/rdf+xml", "application/rdf+xml"),
            ("text/plain", "application/n-triples"),
        ]
    } else {
        &[
            (
                "application/sparql-results+json",
                "application/sparql-results+json",
            ),
            ("application/json", "application/sparql-results+json"),
            (
                "application/sparql-results+xml",
                "application/sparql-results+xml",
            ),
            ("application/xml", "application/sparql-results+xml"),
            ("text/csv", "text/csv; charset=utf-8"),
            (
                "text/tab-separated-values",
                "text/tab-separated-values; charset=utf-8",
            ),
        ]
    };
    // Each offer takes the q of the most specific range that matches it (RFC 9110, 12.5.1).
    let ranges: Vec<(String, f32)> = accept
        .split(',')
        .map(|range| {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|v| v.parse::<f32>().ok())
                .unwrap_or(1.0);
            (media, q)
        })
        .collect();
    let quality = |offer: &str| -> f32 {
        let kind = offer.split('/').next().unwrap_or("");
        ranges
            .iter()
            .filter_map(|(media, q)| {
                let specificity = if media == offer {
                    2
                } else if *media == format!("{kind}/*") {
                    1
                } else if media == "*/*" {
                    0
                } else {
                    return None;
                };
                Some((specificity, *q))
            })
            .max_by_key(|(specificity, _)| *specificity)
            .map_or(0.0, |(_, q)| q)
    };
    let mut best: Option<(f32, usize)> = None;
    for (i, (offer, _)) in offers.iter().enumerate() {
        let q = quality(offer);
        if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, i));
        }
    }
    let Some((_, i)) = best else {
        return Err(Reply::text(
            406,
            format!(
                "none of {accept:?} is offered; try {}",
                offers.iter().map(|o| o.0).collect::<Vec<_>>().join(", ")
            ),
        ));
    };
    let (offer, content_type) = offers[i];
    let negotiated = if graph {
        Negotiated::Graph(RdfFormat::from_media_type(offer).unwrap_or(RdfFormat::NTriples))
    } else {
        Negotiated::Solutions(
            QueryResultsFormat::from_media_type(offer).unwrap_or(QueryResultsFormat::Json),
        )
    };
    Ok((negotiated, content_type))
}
