//! Path queries as people ask them: entity IRIs, predicate filters by IRI, limits, and files of
//! `FROM<TAB>TO` pairs, resolved against a store into [`PathQuery`]s.

use super::query::{PathQuery, DEFAULT_MAX_DEGREE};
use crate::error::{Result, StoreError};
use crate::id::TermId;
use crate::reader::StoreReader;
use crate::resolve::{entity_ids, predicate_ids};
use std::io::BufRead;
use std::path::Path;
use std::time::Duration;

/// The limits and filters of a path request, predicates by IRI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathFilter {
    /// Longest path, in hops.
    pub max_hops: u32,
    /// Most paths per query.
    pub limit: usize,
    /// Hub cap; 0: none.
    pub max_degree: u64,
    /// Only these predicates (comma-separated IRI lists), when any is given.
    pub allow: Vec<String>,
    /// Never these predicates.
    pub deny: Vec<String>,
    /// Walk edges only from subject to object.
    pub forward_only: bool,
    pub timeout: Option<Duration>,
}

impl Default for PathFilter {
    fn default() -> Self {
        Self {
            max_hops: 3,
            limit: 100,
            max_degree: DEFAULT_MAX_DEGREE,
            allow: Vec::new(),
            deny: Vec::new(),
            forward_only: false,
            timeout: None,
        }
    }
}

impl PathFilter {
    /// The query between `sources` and `targets` under these limits and filters.
    pub fn query(
        &self,
        reader: &StoreReader,
        sources: Vec<TermId>,
        targets: Vec<TermId>,
    ) -> Result<PathQuery> {
        let mut query = PathQuery::new(sources, targets)
            .max_hops(self.max_hops)
            .max_paths(self.limit);
        query.max_degree = (self.max_degree > 0).then_some(self.max_degree);
        if !self.allow.is_empty() {
            query.allow = Some(predicate_ids(
                reader,
                self.allow.iter().map(String::as_str),
            )?);
        }
        query.deny = predicate_ids(reader, self.deny.iter().map(String::as_str))?;
        query.both_directions = !self.forward_only;
        query.timeout = self.timeout;
        Ok(query)
    }

    /// The query between comma-separated source and target IRIs, all of which the store holds.
    pub fn query_iris(&self, reader: &StoreReader, from: &str, to: &str) -> Result<PathQuery> {
        let sources = entity_ids(reader, from, "source")?;
        let targets = entity_ids(reader, to, "target")?;
        self.query(reader, sources, targets)
    }

    /// The queries of a pairs file: one `FROM<TAB>TO` per line (each side comma-separated
    /// IRIs; blank lines and `#` comments skipped), each with its line. A bad line is an error
    /// with the file and line.
    pub fn read_pairs(
        &self,
        reader: &StoreReader,
        file: &Path,
    ) -> Result<Vec<(String, PathQuery)>> {
        let input = std::fs::File::open(file).map_err(StoreError::io(file))?;
        let mut queries = Vec::new();
        for (n, line) in std::io::BufReader::new(input).lines().enumerate() {
            let line = line.map_err(StoreError::io(file))?;
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let at_line = |message: String| StoreError::Syntax {
                file: file.to_owned(),
                line: n as u64 + 1,
                message,
            };
            let (from, to) = line
                .split_once('\t')
                .ok_or_else(|| at_line("expected FROM<TAB>TO".into()))?;
            let query = self
                .query_iris(reader, from, to)
                .map_err(|e| at_line(e.to_string()))?;
            queries.push((line, query));
        }
        Ok(queries)
    }
}
