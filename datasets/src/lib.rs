#![doc = include_str!("../README.md")]

pub mod link;
pub mod qa;
pub mod synth;
pub mod wikidata_facts;
pub mod wordnet;
pub mod world;
