//! A rationale writer behind any server that speaks OpenAI's chat-completions API (vLLM,
//! llama.cpp's server, text-generation-inference, hosted APIs): a bounded number of requests in
//! flight, a timeout on each, retries with exponential backoff on 429 and 5xx (honouring
//! `Retry-After`) and on lost connections, and an error that says what the server did when it
//! cannot be reached or answers something that is not a chat completion.

use super::{Generation, RationaleWriter, WriteRequest};
use crate::error::{DatasetError, Result};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// How to reach the server.
#[derive(Clone, Debug)]
pub struct OpenAiSettings {
    /// The API's base URL, up to and including `/v1` (`/chat/completions` is appended).
    pub url: String,
    /// The `model` field of each request; servers that serve one model ignore it.
    pub model: String,
    /// The environment variable that holds the API key (sent as a bearer token when set).
    pub key_env: String,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Each request's whole time, connection to last byte.
    pub timeout: Duration,
    /// Retries of one request after a 429, a 5xx or a lost connection.
    pub retries: u32,
    /// The first retry's wait; each next one doubles it (a `Retry-After` header overrides).
    pub backoff: Duration,
}

impl OpenAiSettings {
    pub fn new(url: &str) -> Self {
        Self {
            url: url.trim_end_matches('/').to_owned(),
            model: "default".into(),
            key_env: "OPENAI_API_KEY".into(),
            concurrency: 4,
            timeout: Duration::from_secs(120),
            retries: 4,
            backoff: Duration::from_millis(500),
        }
    }
}

/// The writer: one `ureq` agent, shared by the requests in flight.
pub struct OpenAiWriter {
    settings: OpenAiSettings,
    generation: Generation,
    key: Option<String>,
    agent: ureq::Agent,
}

/// What one attempt gave.
enum Attempt {
    Done(String),
    /// Worth another try after the wait (the server's `Retry-After`, if it said).
    Retry(String, Option<Duration>),
    Fail(String),
}

impl OpenAiWriter {
    pub fn new(settings: OpenAiSettings, generation: Generation) -> Result<Self> {
        if !settings.url.starts_with("http://") && !settings.url.starts_with("https://") {
            return Err(DatasetError::Config(format!(
                "openai:{}: the server's URL must start with http:// or https:// (e.g. openai:http://127.0.0.1:8080/v1)",
                settings.url
            )));
        }
        if settings.concurrency == 0 {
            return Err(DatasetError::Config(
                "--writer-concurrency must be at least 1".into(),
            ));
        }
        let key = std::env::var(&settings.key_env)
            .ok()
            .filter(|k| !k.is_empty());
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(settings.timeout))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(Self {
            settings,
            generation,
            key,
            agent,
        })
    }

    fn endpoint(&self) -> String {
        format!("{}/chat/completions", self.settings.url)
    }

    /// One request, retried as the settings allow.
    fn request(&self, request: &WriteRequest) -> Result<String> {
        let g = &self.generation;
        let mut body = json!({
            "model": self.settings.model,
            "messages": [{"role": "user", "content": request.prompt}],
            "max_tokens": g.max_tokens,
            "temperature": g.temperature,
            "top_p": g.top_p,
        });
        // Where the server honours seeds, a rerun draws the same sample for the same item.
        if !g.greedy() {
            body["seed"] = json!(request.seed);
        }
        let mut wait = self.settings.backoff;
        let mut attempt = 0;
        loop {
            match self.attempt(&body) {
                Attempt::Done(text) => return Ok(text),
                Attempt::Fail(message) => return Err(self.error(message)),
                Attempt::Retry(message, after) => {
                    if attempt >= self.settings.retries {
                        return Err(self.error(format!(
                            "{message} (gave up after {} attempts)",
                            attempt + 1
                        )));
                    }
                    std::thread::sleep(after.unwrap_or(wait).min(Duration::from_secs(60)));
                    wait *= 2;
                    attempt += 1;
                }
            }
        }
    }

    fn attempt(&self, body: &Value) -> Attempt {
        let mut request = self
            .agent
            .post(&self.endpoint())
            .header("Content-Type", "application/json");
        if let Some(key) = &self.key {
            request = request.header("Authorization", format!("Bearer {key}"));
        }
        let mut response = match request.send_json(body) {
            Ok(r) => r,
            Err(ureq::Error::Timeout(_)) => {
                return Attempt::Retry(
                    format!("no answer within {:?}", self.settings.timeout),
                    None,
                )
            }
            Err(e) => return Attempt::Retry(format!("cannot reach the server: {e}"), None),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64);
        let text = match response
            .body_mut()
            .with_config()
            .limit(16 << 20)
            .read_to_string()
        {
            Ok(t) => t,
            Err(e) => return Attempt::Retry(format!("the answer was cut off: {e}"), None),
        };
        match status {
            200..=299 => match content(&text) {
                Some(content) => Attempt::Done(content),
                None => Attempt::Fail(format!(
                    "answered something that is not a chat completion: {}",
                    snippet(&text)
                )),
            },
            429 | 500..=599 => {
                Attempt::Retry(format!("HTTP {status}: {}", snippet(&text)), retry_after)
            }
            _ => Attempt::Fail(format!("HTTP {status}: {}", snippet(&text))),
        }
    }

    fn error(&self, message: String) -> DatasetError {
        DatasetError::Writer {
            writer: self.id(),
            message: format!("{}: {message}", self.endpoint()),
        }
    }
}

/// The first choice's message of a chat completion.
fn content(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    value["choices"][0]["message"]["content"]
        .as_str()
        .map(str::to_owned)
}

/// The start of a body, for an error message, on one line.
fn snippet(body: &str) -> String {
    let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = one_line.chars().take(200).collect();
    if cut.len() < one_line.len() {
        cut.push('…');
    }
    if cut.is_empty() {
        "(empty body)".into()
    } else {
        cut
    }
}

impl RationaleWriter for OpenAiWriter {
    fn id(&self) -> String {
        format!("openai:{} model={}", self.settings.url, self.settings.model)
    }

    fn generation(&self) -> &Generation {
        &self.generation
    }

    fn batch_size(&self) -> usize {
        // Enough to keep every slot busy while the slowest request of a batch finishes.
        self.settings.concurrency * 4
    }

    fn complete(&self, requests: &[WriteRequest]) -> Vec<Result<String>> {
        let next = AtomicUsize::new(0);
        // After a request has failed its retries the server is most likely down for the rest
        // too: the requests not yet sent are not sent (the run stops anyway).
        let failed = AtomicBool::new(false);
        let results: std::sync::Mutex<Vec<Option<Result<String>>>> =
            std::sync::Mutex::new((0..requests.len()).map(|_| None).collect());
        std::thread::scope(|scope| {
            for _ in 0..self.settings.concurrency.min(requests.len()) {
                scope.spawn(|| loop {
                    if failed.load(Ordering::Relaxed) {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(request) = requests.get(i) else {
                        break;
                    };
                    let result = self.request(request);
                    if result.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    results
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)[i] = Some(result);
                });
            }
        });
        results
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| Err(self.error("not sent: an earlier request failed".into())))
            })
            .collect()
    }
}
