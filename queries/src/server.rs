//! The SPARQL 1.1 Protocol over HTTP (hyper on tokio): `/query` (GET, POST
//! `application/sparql-query`, POST form) and `/update` (POST `application/sparql-update`, POST
//! form; refused unless enabled), with content negotiation on `Accept`.
//!
//! Connections are cheap tasks on a small I/O runtime; what can hold one up is bounded in time
//! ([`ServerOptions`]): request headers (also the idle keep-alive limit), the body (at most
//! [`MAX_BODY`] bytes), the wait for a query slot, the query and the client taking its results
//! (30 s per chunk). Queries
//! and updates run on blocking threads, at most `threads` at once; each reads a snapshot, so
//! queries run while an update commits and never see half of one. Results stream as they are
//! serialised.

mod negotiate;
mod reply;
mod stream;

use crate::engine::{QueryOptions, SparqlEngine};
use crate::error::QueryError;
use crate::results::{write_results, SolutionsFormat};
use crate::update::LoadPolicy;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use negotiate::{negotiate, Negotiated};
use oxrdf::NamedNode;
use oxrdfio::RdfFormat;
use reply::{Reply, ReplyBody};
use sparesults::QueryResultsFormat;
use spareval::CancellationToken;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use stream::Head;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How the endpoint runs.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Address to listen on (loopback by default; port 0 picks a free one).
    pub bind: SocketAddr,
    pub allow_update: bool,
    pub timeout: Option<Duration>,
    pub max_rows: Option<usize>,
    /// Queries and updates evaluated at once; more wait up to `queue_wait`, then get 503.
    pub threads: usize,
    /// A client has this long to send a request's headers (and an idle keep-alive connection
    /// this long to start its next request) before the connection is closed.
    pub header_timeout: Duration,
    /// A request's body must arrive within this; a slower one gets 408.
    pub body_timeout: Duration,
    /// How long a request waits for a free query slot before it gets 503.
    pub queue_wait: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 7878)),
            allow_update: false,
            timeout: Some(Duration::from_secs(30)),
            max_rows: Some(1_000_000),
            threads: 4,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            queue_wait: Duration::from_secs(10),
        }
    }
}

/// The largest request body read; a larger one (or one that says it is) gets 413.
pub const MAX_BODY: usize = 16 << 20;
/// Open connections at most; further clients wait in the listen backlog.
pub const MAX_CONNECTIONS: usize = 1000;

struct State {
    engine: Arc<SparqlEngine>,
    options: ServerOptions,
    slots: Arc<Semaphore>,
}

/// Serves until the process ends. `ready` receives the bound address (port 0 picks one).
pub fn serve(
    engine: Arc<SparqlEngine>,
    options: ServerOptions,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), QueryError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("kale-serve")
        // Parsing and evaluation recurse per nesting level (see MAX_NESTING).
        .thread_stack_size(8 << 20)
        .enable_io()
        .enable_time()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(options.bind)
            .await
            .map_err(|e| {
                QueryError::InvalidInput(format!("cannot listen on {}: {e}", options.bind))
            })?;
        ready(listener.local_addr()?);
        let state = Arc::new(State {
            slots: Arc::new(Semaphore::new(options.threads.max(1))),
            engine,
            options,
        });
        let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        loop {
            let Ok(permit) = Arc::clone(&connections).acquire_owned().await else {
                return Ok(());
            };
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: the server lives on; wait a little.
                Err(e) => {
                    eprintln!("kale serve: accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let state = Arc::clone(&state);
            let header_timeout = state.options.header_timeout;
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let state = Arc::clone(&state);
                    async move { Ok::<_, Infallible>(handle(&state, request).await) }
                });
                // Errors here are the client's (hung up, timed out, spoke no HTTP).
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
                drop(permit);
            });
        }
    })
}

async fn handle(state: &State, request: Request<Incoming>) -> Response<ReplyBody> {
    match answer(state, request).await {
        Ok(response) => response,
        Err(reply) => reply.into_response(),
    }
}

fn header(request: &Request<Incoming>, name: hyper::header::HeaderName) -> Option<&str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The request body as text, refused with 413 when it is (or says it is) over [`MAX_BODY`] and
/// with 408 when it takes longer than `timeout` to arrive.
async fn body(request: Request<Incoming>, timeout: Duration) -> Result<String, Reply> {
    let too_large = |size: &str| {
        Reply::text(
            413,
            format!("the request body is {size}: at most {MAX_BODY} bytes (16 MiB) are read"),
        )
    };
    if let Some(declared) = header(&request, CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok()) {
        if declared > MAX_BODY as u64 {
            return Err(too_large(&format!("{declared} bytes")));
        }
    }
    let collected = tokio::time::timeout(
        timeout,
        Limited::new(request.into_body(), MAX_BODY).collect(),
    )
    .await
    .map_err(|_| {
        Reply::text(
            408,
            format!("the request body did not arrive within {:?}", timeout),
        )
    })?;
    let bytes = match collected {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => return Err(too_large("larger")),
        Err(e) => {
            return Err(Reply::text(
                400,
                format!("cannot read the request body: {e}"),
            ))
        }
    };
    String::from_utf8(bytes.to_vec())
        .map_err(|e| Reply::text(400, format!("the request body is not UTF-8: {e}")))
}

/// `(name, value)` pairs of a URL query string or form body.
fn form(text: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect()
}

fn param(params: &[(String, String)], name: &str) -> Option<String> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

async fn answer(state: &State, request: Request<Incoming>) -> Result<Response<ReplyBody>, Reply> {
    let path = request.uri().path().to_owned();
    let mut params = form(request.uri().query().unwrap_or(""));
    let content_type = header(&request, CONTENT_TYPE)
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let accept = header(&request, hyper::header::ACCEPT)
        .unwrap_or("*/*")
        .to_owned();
    let method = request.method().clone();
    match (path.as_str(), method) {
        ("/query", Method::GET) => {}
        ("/query", Method::POST) => match content_type.as_str() {
            "application/sparql-query" => params.push((
                "query".into(),
                body(request, state.options.body_timeout).await?,
            )),
            "application/x-www-form-urlencoded" => {
                params.extend(form(&body(request, state.options.body_timeout).await?));
            }
            other => {
                return Err(Reply::text(
                    415,
                    format!(
                    "unsupported Content-Type {other:?}: use application/sparql-query or a form"
                ),
                ))
            }
        },
        ("/update", Method::POST) => {
            if !state.options.allow_update {
                return Err(Reply::text(
                    403,
                    "updates are disabled: start the server with --allow-update",
                ));
            }
            match content_type.as_str() {
                "application/sparql-update" => params.push(("update".into(), body(request, state.options.body_timeout).await?)),
                "application/x-www-form-urlencoded" => params.extend(form(&body(request, state.options.body_timeout).await?)),
                other => return Err(Reply::text(415, format!("unsupported Content-Type {other:?}: use application/sparql-update or a form"))),
            }
            let text =
                param(&params, "update").ok_or_else(|| Reply::text(400, "no update given"))?;
            let engine = Arc::clone(&state.engine);
            let permit = slot(state).await?;
            let reply = tokio::task::spawn_blocking(move || {
                let _permit = permit;
                let update = SparqlEngine::parse_update(&text, None).map_err(error_reply)?;
                let summary = engine
                    .update(&update, LoadPolicy::Deny)
                    .map_err(error_reply)?;
                Ok(Reply::text(
                    200,
                    format!("{} inserted, {} removed", summary.inserted, summary.removed),
                ))
            })
            .await
            .unwrap_or_else(|e| Err(Reply::text(500, format!("the update failed: {e}"))))?;
            return Ok(reply.into_response());
        }
        ("/update", _) => return Err(Reply::text(405, "updates are POSTed")),
        ("/query", _) => return Err(Reply::text(405, "queries are sent with GET or POST")),
        ("/", Method::GET) => {
            return Ok(Reply::text(
                200,
                "kale SPARQL endpoint: queries at /query, updates at /update (when enabled)",
            )
            .into_response())
        }
        _ => {
            return Err(Reply::text(
                404,
                format!("nothing at {path}: use /query or /update"),
            ))
        }
    }
    let text = param(&params, "query").ok_or_else(|| Reply::text(400, "no query given"))?;
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
        timeout: state.options.timeout,
        max_rows: state.options.max_rows,
        default_graphs: graphs("default-graph-uri")?,
        named_graphs: graphs("named-graph-uri")?,
    };
    // Parsing happens before a slot is taken: a bad query is refused at once, even when busy.
    let query = SparqlEngine::parse_query(&text, None).map_err(error_reply)?;
    let (format, content_type) = negotiate(&query, &accept)?;
    let (solutions, graph) = match format {
        Negotiated::Solutions(f) => (SolutionsFormat::Standard(f), RdfFormat::NTriples),
        Negotiated::Graph(g) => (SolutionsFormat::Standard(QueryResultsFormat::Json), g),
    };
    let cancel = CancellationToken::new();
    let (mut writer, head, body) = stream::channel(
        content_type,
        tokio::runtime::Handle::current(),
        cancel.clone(),
    );
    let engine = Arc::clone(&state.engine);
    let max_rows = query_options.max_rows;
    let permit = slot(state).await?;
    // Not awaited: the thread answers through `head` and `body` while it runs.
    drop(tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let outcome = engine.query_cancellable(&query, &query_options, cancel, |results| {
            write_results(results, solutions, graph, &mut writer, max_rows)
        });
        match outcome {
            Ok(_) => writer.finish(),
            Err(e) => writer.fail(error_reply(e)),
        }
    }));
    // `body` lives here until the head comes: if the client leaves meanwhile, this future is
    // dropped with it, and so the query is cancelled.
    match head.await {
        Ok(Head::Whole(reply)) => Ok(reply.into_response()),
        Ok(Head::Streamed(content_type)) => {
            let mut response = Response::new(ReplyBody::Streamed(body));
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
            Ok(response)
        }
        Err(_) => Err(Reply::text(500, "the query stopped without an answer")),
    }
}

/// A query slot, waited for at most `queue_wait` (then 503). Held by the blocking thread
/// that evaluates the query or update, until it has written its last byte.
async fn slot(state: &State) -> Result<OwnedSemaphorePermit, Reply> {
    tokio::time::timeout(
        state.options.queue_wait,
        Arc::clone(&state.slots).acquire_owned(),
    )
    .await
    .map_err(|_| {
        Reply::text(
            503,
            format!(
                "the server is busy: {} queries are running and none finished within {:?}; retry",
                state.options.threads.max(1),
                state.options.queue_wait
            ),
        )
    })?
    .map_err(|_| Reply::text(503, "the server is shutting down"))
}

fn error_reply(e: QueryError) -> Reply {
    let status = match &e {
        QueryError::Syntax(_) | QueryError::InvalidInput(_) | QueryError::TooManyRows(_) => 400,
        QueryError::Timeout(_) => 503,
        _ => 500,
    };
    Reply::text(status, e.to_string())
}
