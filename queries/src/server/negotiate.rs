//! Content negotiation: the best results format for a query by the `Accept` header's q-values.

use super::reply::Reply;
use oxrdfio::RdfFormat;
use sparesults::QueryResultsFormat;
use spargebra::Query;

pub(super) enum Negotiated {
    Solutions(QueryResultsFormat),
    Graph(RdfFormat),
}

/// The best format the client accepts for this kind of query, by the `Accept` q-values.
pub(super) fn negotiate(query: &Query, accept: &str) -> Result<(Negotiated, &'static str), Reply> {
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
