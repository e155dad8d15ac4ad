//! The store through sophia: its N-Quads serializer writes what `export::dump` writes, and
//! sophia's mutation API changes the store.
#![cfg(feature = "sophia")]

use kale_queries::sophia::SophiaStore;
use kg_store::{BulkLoader, LoadInput, Store};
use sophia_api::dataset::{Dataset, MutableDataset};
use sophia_api::serializer::{QuadSerializer, Stringifier};
use sophia_api::term::{IriRef, SimpleTerm};
use std::collections::BTreeSet;
use std::path::Path;

fn parsed(text: &[u8]) -> BTreeSet<String> {
    oxttl::NQuadsParser::new()
        .for_slice(text)
        .map(|q| q.unwrap().to_string())
        .collect()
}

#[test]
fn sophia_serialises_the_store_like_kale_dump_and_mutates_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/people.trig");
    BulkLoader::new(&store)
        .load(&[LoadInput::new(data)])
        .unwrap();
    let mut dump = Vec::new();
    kg_store::export::dump(&store.reader(), &mut dump).unwrap();

    let mut dataset = SophiaStore::new(store.clone());
    let mut serializer = sophia_turtle::serializer::nq::NQuadsSerializer::new_stringifier();
    let through_sophia = serializer
        .serialize_dataset(&dataset)
        .unwrap()
        .as_utf8()
        .to_vec();
    assert_eq!(parsed(&through_sophia), parsed(&dump));
    assert_eq!(
        dataset.quads().count() as u64,
        store.stats().unwrap().triples
    );

    let iri = |s: &str| {
        SimpleTerm::Iri(IriRef::new_unchecked(
            format!("http://example.com/{s}").into(),
        ))
    };
    assert!(dataset
        .insert(iri("new"), iri("p"), iri("o"), None::<SimpleTerm>)
        .unwrap());
    assert!(!dataset
        .insert(iri("new"), iri("p"), iri("o"), None::<SimpleTerm>)
        .unwrap());
    assert!(dataset
        .remove(
            iri("alice"),
            iri("nick"),
            SimpleTerm::LiteralDatatype(
                "ally".into(),
                IriRef::new_unchecked("http://www.w3.org/2001/XMLSchema#string".into())
            ),
            None::<SimpleTerm>
        )
        .unwrap());
    assert_eq!(store.stats().unwrap().triples, parsed(&dump).len() as u64);
}
