//! Differential tests: the same data in oxigraph's in-memory store (an independent storage layer
//! under the same SPARQL evaluator family) and in ours, the same queries, the same answers.

use kale_queries::{write_results, QueryOptions, SolutionsFormat, SparqlEngine};
use kg_store::{BulkLoader, LoadInput, Store};
use oxigraph::io::RdfFormat;
use oxigraph::sparql::{QueryResults, SparqlEvaluator};
use std::collections::BTreeMap;
use std::path::Path;

fn data() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/people.trig")
}

/// One solution as variable -> term text.
type Row = BTreeMap<String, String>;

#[derive(Debug, PartialEq)]
enum Answer {
    Rows(Vec<Row>),
    Boolean(bool),
    Triples(Vec<String>),
}

fn reference(store: &oxigraph::store::Store, query: &str) -> Answer {
    let results = SparqlEvaluator::new()
        .parse_query(query)
        .unwrap_or_else(|e| panic!("{query}: {e}"))
        .on_store(store)
        .execute()
        .unwrap();
    match results {
        QueryResults::Boolean(b) => Answer::Boolean(b),
        QueryResults::Solutions(solutions) => Answer::Rows(
            solutions
                .map(|s| {
                    s.unwrap()
                        .iter()
                        .map(|(v, t)| (v.as_str().to_owned(), t.to_string()))
                        .collect()
                })
                .collect(),
        ),
        QueryResults::Graph(triples) => {
            Answer::Triples(triples.map(|t| t.unwrap().to_string()).collect())
        }
    }
}

/// Our answer, through the JSON results format (or N-Triples), parsed back.
fn ours(engine: &SparqlEngine, query: &str) -> Answer {
    let parsed = SparqlEngine::parse_query(query, None).unwrap();
    let mut out = Vec::new();
    let json_format = SolutionsFormat::Standard(sparesults::QueryResultsFormat::Json);
    engine
        .query(&parsed, &QueryOptions::default(), |r| {
            write_results(r, json_format, RdfFormat::NTriples, &mut out, None)
        })
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    if parsed.to_string().starts_with("CONSTRUCT") || parsed.to_string().starts_with("DESCRIBE") {
        return Answer::Triples(
            oxttl::NTriplesParser::new()
                .for_slice(&out)
                .map(|t| t.unwrap().to_string())
                .collect(),
        );
    }
    match sparesults::QueryResultsParser::from_format(sparesults::QueryResultsFormat::Json)
        .for_slice(&out)
        .unwrap()
    {
        sparesults::SliceQueryResultsParserOutput::Boolean(b) => Answer::Boolean(b),
        sparesults::SliceQueryResultsParserOutput::Solutions(solutions) => Answer::Rows(
            solutions
                .map(|s| {
                    s.unwrap()
                        .iter()
                        .map(|(v, t)| (v.as_str().to_owned(), t.to_string()))
                        .collect()
                })
                .collect(),
        ),
    }
}

/// oxigraph's store canonicalises numeric literals ("+1" -> "1", "1.0E2" -> "100"); ours keeps
/// what the user wrote (asserted separately below). Compare numbers by value.
fn canonical_numbers(text: &str) -> String {
    use oxrdf::vocab::xsd;
    let Ok(oxrdf::Term::Literal(l)) = text.parse::<oxrdf::Term>() else {
        return text.to_owned();
    };
    let dt = l.datatype();
    if [xsd::INTEGER, xsd::DECIMAL, xsd::DOUBLE, xsd::FLOAT].contains(&dt) {
        if let Ok(v) = l.value().parse::<f64>() {
            return format!("{v}^^{dt}");
        }
    }
    text.to_owned()
}

fn normalise(answer: Answer, ordered: bool) -> Answer {
    match answer {
        Answer::Rows(rows) => {
            let mut rows: Vec<Row> = rows
                .into_iter()
                .map(|r| {
                    r.into_iter()
                        .map(|(k, v)| (k, canonical_numbers(&v)))
                        .collect()
                })
                .collect();
            if !ordered {
                rows.sort();
            }
            Answer::Rows(rows)
        }
        Answer::Triples(t) => {
            let mut t: Vec<String> = t
                .iter()
                .map(|line| {
                    let triple: oxrdf::Triple = oxttl::NTriplesParser::new()
                        .for_slice(format!("{line} .").as_bytes())
                        .next()
                        .unwrap()
                        .unwrap();
                    format!(
                        "{} {} {}",
                        triple.subject,
                        triple.predicate,
                        canonical_numbers(&triple.object.to_string())
                    )
                })
                .collect();
            t.sort();
            Answer::Triples(t)
        }
        other => other,
    }
}

const PREFIXES: &str = "PREFIX ex: <http://example.com/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
";

/// `(query, whether its ORDER BY fixes the order completely)`.
const QUERIES: &[(&str, bool)] = &[
    // Basic patterns and joins.
    ("SELECT * WHERE { ?s ?p ?o }", false),
    ("SELECT ?p ?name WHERE { ?p a foaf:Person ; rdfs:label ?name }", false),
    ("SELECT ?a ?b ?c WHERE { ?a foaf:knows ?b . ?b foaf:knows ?c }", false),
    ("SELECT ?p ?city ?country WHERE { ?p ex:city ?city . ?city ex:country ?country . ?country rdfs:label ?l }", false),
    // OPTIONAL, UNION, MINUS.
    ("SELECT ?p ?w WHERE { ?p a foaf:Person OPTIONAL { ?p ex:weight ?w } }", false),
    ("SELECT ?p ?w ?h WHERE { ?p a foaf:Person OPTIONAL { ?p ex:weight ?w OPTIONAL { ?p ex:height ?h } } }", false),
    ("SELECT ?x WHERE { { ?x a ex:City } UNION { ?x a ex:Country } }", false),
    ("SELECT ?p WHERE { ?p a foaf:Person MINUS { ?p ex:member true } }", false),
    // FILTER with every literal type.
    ("SELECT ?p WHERE { ?p foaf:age ?a FILTER(?a > 26 && ?a < 40) }", false),
    ("SELECT ?p WHERE { ?p ex:height ?h FILTER(?h >= 1.68) }", false),
    ("SELECT ?p WHERE { ?p ex:weight ?w FILTER(?w < 8.0e1) }", false),
    ("SELECT ?p WHERE { ?p ex:born ?d FILTER(?d < \"1995-01-01\"^^xsd:date) }", false),
    ("SELECT ?p WHERE { ?p ex:lastSeen ?t FILTER(YEAR(?t) = 2024) }", false),
    ("SELECT ?p WHERE { ?p ex:member ?m FILTER(?m) }", false),
    ("SELECT ?p WHERE { ?p foaf:age ?a FILTER(isNumeric(?a)) }", false),
    ("SELECT ?p ?a WHERE { ?p foaf:age ?a FILTER(!isNumeric(?a)) }", false),
    ("SELECT ?p WHERE { ?p ex:nick ?n FILTER(STRLEN(?n) > 1 && REGEX(?n, \"^c\")) }", false),
    ("SELECT ?x WHERE { ?x rdfs:label ?l FILTER(CONTAINS(LCASE(STR(?l)), \"ar\")) }", false),
    ("SELECT ?s WHERE { ?s ex:score ?v FILTER(?v = 1) }", false),
    ("SELECT ?s WHERE { ?s ex:score \"+1\"^^xsd:integer }", false),
    ("SELECT ?s WHERE { ?s ex:code \"007\" }", false),
    ("SELECT ?s ?n WHERE { ?s ex:note ?n FILTER(STRSTARTS(?n, \"tab\")) }", false),
    // Language tags and datatypes.
    ("SELECT ?x ?l WHERE { ?x rdfs:label ?l FILTER(LANG(?l) = \"fr\") }", false),
    ("SELECT ?x ?l WHERE { ?x rdfs:label ?l FILTER(LANGMATCHES(LANG(?l), \"*\")) }", false),
    ("SELECT ?x WHERE { ?x rdfs:label \"Paris\"@fr }", false),
    ("SELECT ?x WHERE { ?x rdfs:label \"Paris\" }", false),
    ("SELECT ?o (DATATYPE(?o) AS ?dt) WHERE { ex:alice ?p ?o FILTER(isLiteral(?o)) }", false),
    // BIND and VALUES.
    ("SELECT ?p ?next WHERE { ?p foaf:age ?a FILTER(isNumeric(?a)) BIND(?a + 1 AS ?next) }", false),
    ("SELECT ?p ?label WHERE { ?p rdfs:label ?l BIND(CONCAT(STR(?l), \"!\") AS ?label) }", false),
    ("SELECT ?p ?city WHERE { VALUES ?p { ex:alice ex:dave ex:nobody } ?p ex:city ?city }", false),
    ("SELECT ?p ?c WHERE { VALUES (?p ?c) { (ex:alice ex:paris) (ex:bob UNDEF) } ?p ex:city ?c }", false),
    // Property paths.
    ("SELECT ?x WHERE { ex:alice foaf:knows+ ?x }", false),
    ("SELECT ?x WHERE { ex:alice foaf:knows* ?x }", false),
    ("SELECT ?x WHERE { ex:alice foaf:knows? ?x }", false),
    ("SELECT ?x WHERE { ex:dave ^foaf:knows ?x }", false),
    ("SELECT ?x ?y WHERE { ?x foaf:knows/foaf:knows ?y }", false),
    ("SELECT ?x WHERE { ex:paris (ex:country|rdfs:label) ?x }", false),
    ("SELECT ?c WHERE { ?c rdfs:subClassOf* ex:Thing }", false),
    ("SELECT ?x WHERE { ?x (foaf:knows|^foaf:knows)/(foaf:knows|^foaf:knows) ex:alice }", false),
    // Aggregates.
    ("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", false),
    ("SELECT ?c (COUNT(?p) AS ?n) (AVG(?a) AS ?avg) WHERE { ?p ex:city ?c ; foaf:age ?a FILTER(isNumeric(?a)) } GROUP BY ?c", false),
    ("SELECT ?c (SAMPLE(?l) AS ?any) (GROUP_CONCAT(?p; separator=\",\") AS ?ps) WHERE { ?p ex:city ?c . ?c rdfs:label ?l FILTER(LANG(?l) = \"en\") } GROUP BY ?c", false),
    ("SELECT (MIN(?a) AS ?min) (MAX(?a) AS ?max) (SUM(?a) AS ?sum) WHERE { ?p foaf:age ?a FILTER(isNumeric(?a)) }", false),
    ("SELECT ?c (COUNT(DISTINCT ?p) AS ?n) WHERE { ?p ex:city ?c } GROUP BY ?c HAVING (COUNT(?p) > 1)", false),
    // Group counts over one pattern, which the engine answers from the index (`counts.rs`),
    // and the shapes next to them that it must leave to the evaluator.
    ("SELECT ?c (COUNT(?p) AS ?n) WHERE { ?p ex:city ?c } GROUP BY ?c ORDER BY DESC(?n) ?c", true),
    ("SELECT ?c (COUNT(?p) AS ?n) WHERE { ?p ex:city ?c } GROUP BY ?c ORDER BY DESC(?n) ?c LIMIT 1", true),
    ("SELECT ?p (COUNT(*) AS ?n) (COUNT(DISTINCT ?o) AS ?d) (COUNT(DISTINCT ?p) AS ?one) WHERE { ?p foaf:knows ?o } GROUP BY ?p", false),
    ("SELECT ?o (COUNT(?p) AS ?n) WHERE { ?p foaf:knows ?o } GROUP BY ?o HAVING(COUNT(?p) > 1)", false),
    ("SELECT (COUNT(*) AS ?n) (COUNT(DISTINCT *) AS ?m) (COUNT(?l) AS ?k) WHERE { ?s rdfs:label ?l }", false),
    ("SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s rdfs:label ?l }", false),
    ("SELECT ?s (COUNT(*) AS ?n) WHERE { ?s rdfs:label ?l } GROUP BY ?s", false),
    ("SELECT ?l (COUNT(*) AS ?n) WHERE { ?s rdfs:label ?l } GROUP BY ?l", false),
    ("SELECT ?s (COUNT(?o) AS ?n) WHERE { ?s ex:likes ?o } GROUP BY ?s", false),
    ("SELECT (COUNT(*) AS ?n) WHERE { ?s ex:nothing ?o }", false),
    ("SELECT ?s (COUNT(*) AS ?n) WHERE { ?s ex:nothing ?o } GROUP BY ?s", false),
    ("SELECT ?o (COUNT(?s) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?o", false),
    ("SELECT ?g ?n WHERE { GRAPH ?g { { SELECT (COUNT(*) AS ?n) WHERE { ?s ex:likes ?o } } } }", false),
    ("SELECT ?p ?n WHERE { ?p a foaf:Person . { SELECT ?p (COUNT(?o) AS ?n) WHERE { ?p foaf:knows ?o } GROUP BY ?p } }", false),
    ("ASK { { SELECT (COUNT(*) AS ?n) WHERE { ?s foaf:knows ?o } } FILTER(?n > 3) }", false),
    // Subqueries.
    ("SELECT ?p ?max WHERE { ?p foaf:age ?max { SELECT (MAX(?a) AS ?max) WHERE { ?x foaf:age ?a FILTER(isNumeric(?a)) } } }", false),
    ("SELECT ?c ?n WHERE { { SELECT ?c (COUNT(*) AS ?n) WHERE { ?p ex:city ?c } GROUP BY ?c } FILTER(?n >= 2) }", false),
    // ORDER BY, LIMIT, OFFSET, DISTINCT.
    ("SELECT ?p ?a WHERE { ?p foaf:age ?a FILTER(isNumeric(?a)) } ORDER BY DESC(?a) ?p", true),
    ("SELECT ?p WHERE { ?p a foaf:Person } ORDER BY ?p LIMIT 2 OFFSET 1", true),
    ("SELECT DISTINCT ?a WHERE { ?p foaf:age ?a } ORDER BY ?a", true),
    ("SELECT DISTINCT ?c WHERE { ?p ex:city ?c }", false),
    ("SELECT REDUCED ?c WHERE { ?p ex:city ?c } ORDER BY ?c", false),
    // Named graphs.
    ("SELECT ?g ?s ?o WHERE { GRAPH ?g { ?s ex:likes ?o } }", false),
    ("SELECT ?s ?o WHERE { GRAPH ex:g2 { ?s ?p ?o } }", false),
    ("SELECT ?g WHERE { GRAPH ?g { } }", false),
    ("SELECT ?s WHERE { ?s ex:likes ?o }", false),
    ("SELECT ?a WHERE { ex:dave foaf:age ?a }", false),
    // ASK, CONSTRUCT, DESCRIBE.
    ("ASK { ex:alice foaf:knows ex:bob }", false),
    ("ASK { ex:alice foaf:knows ex:frank }", false),
    ("CONSTRUCT { ?b ex:knownBy ?a } WHERE { ?a foaf:knows ?b }", false),
    ("DESCRIBE ex:carol", false),
    // EXISTS, NOT EXISTS, IF, COALESCE, IN.
    ("SELECT ?p WHERE { ?p a foaf:Person FILTER NOT EXISTS { ?p ex:weight ?w } }", false),
    ("SELECT ?p WHERE { ?p a foaf:Person FILTER EXISTS { ?p foaf:knows ex:dave } }", false),
    ("SELECT ?p (IF(?m, \"yes\", \"no\") AS ?member) WHERE { ?p ex:member ?m }", false),
    ("SELECT ?p (COALESCE(?w, -1) AS ?weight) WHERE { ?p a foaf:Person OPTIONAL { ?p ex:weight ?w } }", false),
    ("SELECT ?p WHERE { ?p ex:city ?c FILTER(?c IN (ex:lyon, ex:berlin)) }", false),
];

#[test]
fn every_query_answers_as_oxigraph_does() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    BulkLoader::new(&store)
        .load(&[LoadInput::new(data())])
        .unwrap();
    let engine = SparqlEngine::new(store);
    let reference_store = oxigraph::store::Store::new().unwrap();
    reference_store
        .load_from_reader(RdfFormat::TriG, std::fs::File::open(data()).unwrap())
        .unwrap();
    let mut failures = Vec::new();
    for (query, ordered) in QUERIES {
        let text = format!("{PREFIXES}{query}");
        let expected = normalise(reference(&reference_store, &text), *ordered);
        let got = normalise(ours(&engine, &text), *ordered);
        if got != expected {
            failures.push(format!(
                "{query}\n  ours:      {got:?}\n  oxigraph:  {expected:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} queries differ:\n{}",
        failures.len(),
        QUERIES.len(),
        failures.join("\n")
    );

    // What numbers may differ in above: we return them exactly as loaded.
    let Answer::Rows(rows) = ours(
        &engine,
        &format!("{PREFIXES}SELECT ?o WHERE {{ ex:alice ex:score ?o }}"),
    ) else {
        panic!("solutions expected")
    };
    let mut scores: Vec<&str> = rows.iter().map(|r| r["o"].as_str()).collect();
    scores.sort_unstable();
    assert_eq!(
        scores,
        [
            "\"+1\"^^<http://www.w3.org/2001/XMLSchema#integer>",
            "\"1.0E2\"^^<http://www.w3.org/2001/XMLSchema#double>"
        ]
    );
}
