#![doc = include_str!("../README.md")]

mod error;
pub mod gen;
pub mod link;
pub mod qa;
pub mod synth;
pub mod wikidata_facts;
pub mod wordnet;
pub mod world;

pub use error::{DatasetError, Result};
