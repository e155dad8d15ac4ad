//! The RDF syntax suites (N-Triples, N-Quads, Turtle): positive and negative syntax tests, and
//! evaluation tests whose result is the N-Triples the input must load as.

use crate::engines::System;
use crate::files;
use crate::manifest::Test;
use crate::outcome::Outcome;
use crate::results::{canonical, difference};
use oxrdf::Dataset;
use oxrdfio::{RdfFormat, RdfParser};

fn format_of(iri: &str) -> Option<RdfFormat> {
    RdfFormat::from_extension(iri.rsplit('.').next()?)
}

/// Runs one parser test against `system`.
pub fn run(system: &dyn System, test: &Test) -> Outcome {
    let Some(action) = &test.action else {
        return Outcome::Unsupported("no action".into());
    };
    let Some(format) = format_of(action) else {
        return Outcome::Unsupported(format!("no RDF format for {action}"));
    };
    let file = match files::path_of(action) {
        Ok(file) => file,
        Err(e) => return Outcome::Unsupported(e.to_string()),
    };
    let loaded = system.load_file(&file, format, action);
    let kind = test.kind.as_str();
    match kind {
        _ if kind.ends_with("PositiveSyntax") => match loaded {
            Ok(_) => Outcome::Pass,
            Err(e) => Outcome::Fail(format!("rejected valid input: {e}")),
        },
        _ if kind.ends_with("NegativeSyntax") || kind.ends_with("NegativeEval") => match loaded {
            Ok(_) => Outcome::Fail("accepted invalid input".into()),
            Err(_) => Outcome::Pass,
        },
        _ if kind.ends_with("Eval") => {
            let actual = match loaded {
                Ok(actual) => actual,
                Err(e) => return Outcome::Fail(format!("rejected valid input: {e}")),
            };
            let Some(result) = &test.result else {
                return Outcome::Unsupported("an evaluation test without a result".into());
            };
            let expected = match files::read(result)
                .map_err(|e| e.to_string())
                .and_then(|b| {
                    RdfParser::from_format(RdfFormat::NTriples)
                        .for_slice(&b)
                        .collect::<Result<Dataset, _>>()
                        .map_err(|e| e.to_string())
                }) {
                Ok(expected) => expected,
                Err(e) => return Outcome::Unsupported(format!("the expected result: {e}")),
            };
            let (expected, actual) = (canonical(expected), canonical(actual));
            if expected == actual {
                Outcome::Pass
            } else {
                Outcome::Fail(difference(&expected, &actual))
            }
        }
        other => Outcome::Unsupported(format!("test type {other}")),
    }
}
