//! The store as a sophia_api [`Dataset`] and [`MutableDataset`] (cargo feature `sophia`), so
//! sophia's serializers, parsers and tools run on it directly.
//!
//! ```
//! use kale_queries::sophia::SophiaStore;
//! use sophia_api::dataset::{Dataset, MutableDataset};
//! use sophia_api::term::SimpleTerm;
//!
//! let dir = tempfile::tempdir()?;
//! let mut dataset = SophiaStore::new(kg_store::Store::open(dir.path())?);
//! let ex = |s: &str| SimpleTerm::Iri(sophia_api::term::IriRef::new_unchecked(format!("http://example.com/{s}").into()));
//! assert!(dataset.insert(ex("a"), ex("p"), ex("b"), None::<SimpleTerm>)?);
//! assert_eq!(dataset.quads().count(), 1);
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! ```

use kg_store::{GraphFilter, Store, StoreError, TermId};
use oxrdf::{BlankNode, GraphName, Literal, NamedNode, NamedOrBlankNode, Quad, Term};
use rustc_hash::FxHashMap;
use sophia_api::dataset::{DResult, Dataset, MdResult, MutableDataset};
use sophia_api::quad::Spog;
use sophia_api::term::{BnodeId, IriRef, LanguageTag, SimpleTerm, Term as SophiaTerm, TermKind};
use sophia_api::MownStr;

/// A store seen through sophia's traits. Reads take a fresh snapshot per call; each insert or
/// remove is one atomic write.
pub struct SophiaStore {
    store: Store,
}

impl SophiaStore {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

fn to_sophia(term: Term) -> SimpleTerm<'static> {
    match term {
        Term::NamedNode(n) => {
            SimpleTerm::Iri(IriRef::new_unchecked(MownStr::from(n.into_string())))
        }
        Term::BlankNode(b) => {
            SimpleTerm::BlankNode(BnodeId::new_unchecked(MownStr::from(b.into_string())))
        }
        Term::Literal(l) => {
            let (value, datatype, language) = l.destruct();
            match language {
                Some(lang) => SimpleTerm::LiteralLanguage(
                    MownStr::from(value),
                    LanguageTag::new_unchecked(MownStr::from(lang)),
                    None,
                ),
                None => {
                    let datatype = datatype.map_or_else(
                        || oxrdf::vocab::xsd::STRING.as_str().to_owned(),
                        NamedNode::into_string,
                    );
                    SimpleTerm::LiteralDatatype(
                        MownStr::from(value),
                        IriRef::new_unchecked(MownStr::from(datatype)),
                    )
                }
            }
        }
    }
}

fn invalid(message: String) -> StoreError {
    StoreError::InvalidInput(message)
}

fn to_oxrdf<T: SophiaTerm>(term: &T) -> Result<Term, StoreError> {
    Ok(match term.kind() {
        TermKind::Iri => NamedNode::new(term.iri().expect("an IRI").as_str())
            .map_err(|e| invalid(e.to_string()))?
            .into(),
        TermKind::BlankNode => BlankNode::new(term.bnode_id().expect("a blank node").as_str())
            .map_err(|e| invalid(e.to_string()))?
            .into(),
        TermKind::Literal => {
            let value = term.lexical_form().expect("a literal").to_string();
            match term.language_tag() {
                Some(lang) => Literal::new_language_tagged_literal(value, lang.as_str())
                    .map_err(|e| invalid(e.to_string()))?
                    .into(),
                None => {
                    let datatype = term.datatype().expect("a literal has a datatype");
                    Literal::new_typed_literal(
                        value,
                        NamedNode::new(datatype.as_str()).map_err(|e| invalid(e.to_string()))?,
                    )
                    .into()
                }
            }
        }
        other => return Err(invalid(format!("the store holds no {other:?} terms"))),
    })
}

fn quad_of<TS: SophiaTerm, TP: SophiaTerm, TO: SophiaTerm, TG: SophiaTerm>(
    s: TS,
    p: TP,
    o: TO,
    g: Option<TG>,
) -> Result<Quad, StoreError> {
    let subject = match to_oxrdf(&s)? {
        Term::NamedNode(n) => NamedOrBlankNode::from(n),
        Term::BlankNode(b) => b.into(),
        Term::Literal(l) => return Err(invalid(format!("a literal {l} cannot be a subject"))),
    };
    let Term::NamedNode(predicate) = to_oxrdf(&p)? else {
        return Err(invalid("a predicate must be an IRI".into()));
    };
    let graph = match g {
        None => GraphName::DefaultGraph,
        Some(g) => match to_oxrdf(&g)? {
            Term::NamedNode(n) => n.into(),
            Term::BlankNode(b) => b.into(),
            Term::Literal(l) => return Err(invalid(format!("a literal {l} cannot name a graph"))),
        },
    };
    Ok(Quad::new(subject, predicate, to_oxrdf(&o)?, graph))
}

impl Dataset for SophiaStore {
    type Quad<'x> = Spog<SimpleTerm<'static>>;
    type Error = StoreError;

    fn quads(&self) -> impl Iterator<Item = DResult<Self, Self::Quad<'_>>> + '_ {
        let reader = self.store.reader();
        let mut cache: FxHashMap<TermId, SimpleTerm<'static>> = FxHashMap::default();
        let quads = reader.quads(None, None, None, GraphFilter::All);
        quads.map(move |q| {
            let q = q?;
            let mut term = |id: TermId| -> Result<SimpleTerm<'static>, StoreError> {
                if let Some(t) = cache.get(&id) {
                    return Ok(t.clone());
                }
                let t = to_sophia(reader.term(id)?);
                if cache.len() > 100_000 {
                    cache.clear();
                }
                cache.insert(id, t.clone());
                Ok(t)
            };
            let graph = q.graph.map(&mut term).transpose()?;
            Ok((
                [term(q.subject)?, term(q.predicate)?, term(q.object)?],
                graph,
            ))
        })
    }
}

impl MutableDataset for SophiaStore {
    type MutationError = StoreError;

    fn insert<TS, TP, TO, TG>(&mut self, s: TS, p: TP, o: TO, g: Option<TG>) -> MdResult<Self, bool>
    where
        TS: SophiaTerm,
        TP: SophiaTerm,
        TO: SophiaTerm,
        TG: SophiaTerm,
    {
        let quad = quad_of(s, p, o, g)?;
        Ok(self.store.insert([quad.as_ref()])?.inserted == 1)
    }

    fn remove<TS, TP, TO, TG>(&mut self, s: TS, p: TP, o: TO, g: Option<TG>) -> MdResult<Self, bool>
    where
        TS: SophiaTerm,
        TP: SophiaTerm,
        TO: SophiaTerm,
        TG: SophiaTerm,
    {
        let quad = quad_of(s, p, o, g)?;
        Ok(self.store.remove([quad.as_ref()])?.removed == 1)
    }
}
