//! End-to-end tests of the store commands through the `kale` binary, as a user runs them: gen,
//! load, stats, dump, triples, index, paths, and a load killed with SIGKILL at many moments.

mod common;

use common::{kale, kale_ok, stats, world_store};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

fn lines(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn generated_worlds_are_deterministic_and_load_with_their_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.nt"), dir.path().join("b.nt"));
    for file in [&a, &b] {
        kale_ok(&[
            "gen",
            "world",
            "--out",
            file.to_str().unwrap(),
            "--entities",
            "800",
            "--seed",
            "5",
        ]);
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let store = dir.path().join("store");
    kale_ok(&["load", store.to_str().unwrap(), a.to_str().unwrap()]);
    let s = stats(&store);
    for key in [
        "triples",
        "entities",
        "predicates",
        "literals",
        "disk_bytes",
    ] {
        assert!(s[key].as_u64().unwrap() > 0, "{key} in {s}");
    }
    let distinct = lines(&std::fs::read_to_string(&a).unwrap()).len() as u64;
    assert_eq!(s["triples"].as_u64().unwrap(), distinct);
    assert!(s["predicates"].as_u64().unwrap() > 200);
}

#[test]
fn dump_gives_back_the_loaded_triples() {
    let dir = tempfile::tempdir().unwrap();
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("kg-store/tests/data/shapes.nt");
    let store = dir.path().join("store");
    kale_ok(&["load", store.to_str().unwrap(), input.to_str().unwrap()]);
    let out = dir.path().join("out.nt");
    kale_ok(&[
        "dump",
        store.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    // Same triples, term for term (compared parsed, since escapes may be written differently).
    let parse = |p: &Path| -> BTreeSet<String> {
        oxttl::NTriplesParser::new()
            .for_reader(std::fs::File::open(p).unwrap())
            .map(|t| t.unwrap().to_string())
            .collect()
    };
    assert_eq!(parse(&out), parse(&input));
    // Without --out it goes to standard output.
    let stdout = kale_ok(&["dump", store.to_str().unwrap()]);
    assert_eq!(
        lines(&stdout),
        lines(&std::fs::read_to_string(&out).unwrap())
    );
    // A reader that hangs up early (`kale stats S | head -1`) ends kale quietly: no panic.
    for command in ["stats", "dump", "triples"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kale"))
            .args([command, store.to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let done = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert!(!stderr.contains("panicked"), "kale {command}: {stderr}");
        assert_ne!(done.status.code(), Some(101), "kale {command} panicked");
    }
}

#[test]
fn triples_scans_a_pattern() {
    let dir = tempfile::tempdir().unwrap();
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("kg-store/tests/data/shapes.nt");
    let store = dir.path().join("store");
    kale_ok(&["load", store.to_str().unwrap(), input.to_str().unwrap()]);
    let s = store.to_str().unwrap();
    let by_subject = kale_ok(&["triples", s, "--s", "http://example.com/s"]);
    assert_eq!(by_subject.lines().count(), 12);
    let by_object = kale_ok(&[
        "triples",
        s,
        "--o",
        "\"+1\"^^<http://www.w3.org/2001/XMLSchema#integer>",
    ]);
    assert_eq!(by_object.trim(), "<http://example.com/s> <http://example.com/int> \"+1\"^^<http://www.w3.org/2001/XMLSchema#integer> .");
    let limited = kale_ok(&[
        "triples",
        s,
        "--p",
        "<http://example.com/p>",
        "--limit",
        "2",
    ]);
    assert_eq!(limited.lines().count(), 2);
    assert_eq!(
        kale_ok(&["triples", s, "--s", "http://example.com/unknown"]),
        ""
    );
}

#[test]
fn bad_input_names_file_and_line_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("kg-store/tests/data");
    let store = dir.path().join("store");
    let s = store.to_str().unwrap();
    kale_ok(&["load", s, data.join("shapes.nt").to_str().unwrap()]);
    let before = kale_ok(&["dump", s]);
    let bad = data.join("bad.nt");
    let out = kale(&["load", s, bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:4:", bad.display())),
        "{stderr}"
    );
    assert_eq!(kale_ok(&["dump", s]), before);
    let out = kale(&["load", s, bad.to_str().unwrap(), "--lenient"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2 skipped"), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:6:", bad.display())),
        "{stderr}"
    );
}

/// Kills `kale load` at many moments, from parsing to the adjacency build after the commit.
/// Every time the store must reopen either exactly as before the load or with all of it.
#[test]
fn a_load_killed_at_any_moment_leaves_the_store_before_or_after() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.nt");
    kale_ok(&[
        "gen",
        "world",
        "--out",
        big.to_str().unwrap(),
        "--entities",
        "120000",
        "--seed",
        "3",
    ]);
    let small = Path::new(env!("CARGO_MANIFEST_DIR")).join("kg-store/tests/data/shapes.nt");
    let base = dir.path().join("base");
    kale_ok(&["load", base.to_str().unwrap(), small.to_str().unwrap()]);
    let before_dump = kale_ok(&["dump", base.to_str().unwrap()]);
    let before = stats(&base)["triples"].as_u64().unwrap();

    // The whole load, to know how long it takes and what "after" is.
    let full = dir.path().join("full");
    copy_dir(&base, &full);
    let started = Instant::now();
    kale_ok(&["load", full.to_str().unwrap(), big.to_str().unwrap()]);
    let took = started.elapsed();
    let after = stats(&full)["triples"].as_u64().unwrap();
    assert!(after > before + 1_000_000);

    // Kill at fractions of the load's time, and once exactly when the adjacency build starts:
    // the commit is done, the adjacency not yet rebuilt.
    let moments: Vec<Option<f64>> = [0.02, 0.15, 0.35, 0.55, 0.75, 0.9]
        .into_iter()
        .map(Some)
        .chain([None])
        .collect();
    let mut outcomes = Vec::new();
    for (i, moment) in moments.into_iter().enumerate() {
        let store = dir.path().join(format!("kill{i}"));
        copy_dir(&base, &store);
        let mut child = Command::new(env!("CARGO_BIN_EXE_kale"))
            .args([
                "load",
                "--quiet",
                store.to_str().unwrap(),
                big.to_str().unwrap(),
            ])
            .spawn()
            .unwrap();
        match moment {
            Some(fraction) => std::thread::sleep(took.mul_f64(fraction)),
            None => {
                let building = |p: &Path| {
                    std::fs::read_dir(p.join("adjacency")).is_ok_and(|mut d| {
                        d.any(|e| {
                            e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with(".build-"))
                        })
                    })
                };
                let deadline = Instant::now() + took * 3;
                while !building(&store) && Instant::now() < deadline {
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
                assert!(building(&store), "never saw the adjacency build start");
            }
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let triples = stats(&store)["triples"].as_u64().unwrap();
        if triples == before {
            assert_eq!(
                kale_ok(&["dump", store.to_str().unwrap()]),
                before_dump,
                "kill {i} left a changed store"
            );
            outcomes.push("before");
        } else {
            assert_eq!(triples, after, "kill {i} left a partial store");
            outcomes.push("after");
            if moment.is_none() {
                // Committed but not indexed: path queries must say so, not answer wrongly.
                let paths = kale(&[
                    "paths",
                    store.to_str().unwrap(),
                    "--from",
                    "http://example.com/s",
                    "--to",
                    "http://example.com/o",
                ]);
                assert!(!paths.status.success());
                assert!(String::from_utf8_lossy(&paths.stderr).contains("kale index"));
            }
        }
        // Whatever happened, loading again completes and gives the full store.
        kale_ok(&["load", store.to_str().unwrap(), big.to_str().unwrap()]);
        assert_eq!(stats(&store)["triples"].as_u64().unwrap(), after);
        let paths = kale(&[
            "paths",
            store.to_str().unwrap(),
            "--from",
            "http://example.com/s",
            "--to",
            "http://example.com/o",
        ]);
        assert!(
            paths.status.success(),
            "{}",
            String::from_utf8_lossy(&paths.stderr)
        );
        let _ = std::fs::remove_dir_all(&store);
    }
    eprintln!("outcomes: {outcomes:?}");
    assert!(
        outcomes.contains(&"before"),
        "no kill landed before the commit: {outcomes:?}"
    );
    assert_eq!(
        outcomes.last(),
        Some(&"after"),
        "the kill during the adjacency build comes after the commit"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn paths_through_the_command_line_in_text_json_and_batches() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("g.nt");
    std::fs::write(
        &file,
        concat!(
            "<http://e/sun> <http://e/emits> <http://e/light> .\n",
            "<http://e/light> <http://e/integrates> <http://e/white> .\n",
            "<http://e/sun> <http://www.w3.org/2000/01/rdf-schema#label> \"the Sun\"@en .\n",
            "<http://e/emits> <http://www.w3.org/2000/01/rdf-schema#label> \"emits\"@en .\n",
        ),
    )
    .unwrap();
    let store = dir.path().join("store");
    let s = store.to_str().unwrap();
    kale_ok(&["load", s, file.to_str().unwrap()]);
    let text = kale_ok(&[
        "paths",
        s,
        "--from",
        "http://e/sun",
        "--to",
        "http://e/white",
    ]);
    assert!(
        text.contains("the Sun <http://e/sun>  -[emits]->"),
        "{text}"
    );
    let json: Value = serde_json::from_str(&kale_ok(&[
        "paths",
        s,
        "--from",
        "http://e/sun",
        "--to",
        "http://e/white",
        "--json",
    ]))
    .unwrap();
    assert_eq!(json["truncated"], false);
    let hops = &json["paths"][0]["hops"];
    assert_eq!(hops[0]["s"], "http://e/sun");
    assert_eq!(hops[0]["p"], "http://e/emits");
    assert_eq!(hops[1]["o"], "http://e/white");
    // Walking back: the hop keeps the stored triple's subject and object.
    let back: Value = serde_json::from_str(&kale_ok(&[
        "paths",
        s,
        "--from",
        "http://e/white",
        "--to",
        "http://e/light",
        "--json",
    ]))
    .unwrap();
    assert_eq!(back["paths"][0]["hops"][0]["s"], "http://e/light");
    assert_eq!(back["paths"][0]["hops"][0]["forward"], false);
    let none = kale_ok(&[
        "paths",
        s,
        "--from",
        "http://e/white",
        "--to",
        "http://e/light",
        "--forward-only",
        "--json",
    ]);
    assert_eq!(
        serde_json::from_str::<Value>(&none).unwrap()["paths"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    let pairs = dir.path().join("pairs.tsv");
    std::fs::write(
        &pairs,
        "http://e/sun\thttp://e/white\nhttp://e/white\thttp://e/sun,http://e/light\n",
    )
    .unwrap();
    let batch = kale_ok(&["paths", s, "--pairs", pairs.to_str().unwrap(), "--json"]);
    let results: Vec<Value> = batch
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["pair"], 0);
    assert_eq!(
        results[1]["paths"].as_array().unwrap().len(),
        1,
        "white to light; the sun is behind it"
    );
    let unknown = kale(&[
        "paths",
        s,
        "--from",
        "http://e/nobody",
        "--to",
        "http://e/white",
    ]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("not in the store"));
}

#[test]
fn a_corrupted_file_is_reported_as_corruption_not_as_a_lock() {
    let dir = tempfile::tempdir().unwrap();
    let store = world_store(dir.path(), 2000);
    // Every table file's bytes flipped after its first quarter: its blocks fail their checksums.
    let mut damaged = 0;
    for entry in std::fs::read_dir(&store).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "sst") {
            let mut bytes = std::fs::read(&path).unwrap();
            let n = bytes.len();
            for b in &mut bytes[n / 4..n.saturating_sub(64)] {
                *b ^= 0x5a;
            }
            std::fs::write(&path, bytes).unwrap();
            damaged += 1;
        }
    }
    assert!(damaged > 0, "no table files in {store:?}");
    let out = kale(&["dump", store.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a damaged store was read: {err}");
    assert!(!err.contains("another process"), "{err}");
    assert!(err.to_lowercase().contains("corrupt"), "{err}");
}

#[test]
fn kale_index_clears_what_a_killed_build_left_and_a_missing_file_says_to_run_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = world_store(dir.path(), 500);
    let adjacency = store.join("adjacency");
    // No process has this id (Linux's pid_max is at most 2^22); this test's process does run.
    let abandoned = adjacency.join(".build-999999999-1");
    let live = adjacency.join(format!(".build-{}-1", std::process::id()));
    for d in [&abandoned, &live] {
        std::fs::create_dir_all(d).unwrap();
        std::fs::write(d.join("part"), b"scratch").unwrap();
    }
    kale_ok(&["index", store.to_str().unwrap()]);
    assert!(!abandoned.exists(), "a killed build's scratch stayed");
    assert!(live.exists(), "a running build's scratch was removed");

    // A deleted adjacency file is named, with what to do about it.
    std::fs::remove_file(adjacency.join("graph.csr")).unwrap();
    let paths = [
        "paths",
        store.to_str().unwrap(),
        "--from",
        "http://kale.example/entity/Q1",
        "--to",
        "http://kale.example/entity/Q2",
    ];
    let out = kale(&paths);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("graph.csr") && err.contains("missing") && err.contains("kale index"),
        "{err}"
    );
    kale_ok(&["index", store.to_str().unwrap()]);
    kale_ok(&paths);
}

#[test]
fn a_snapshot_is_a_consistent_store_that_later_writes_do_not_touch() {
    let dir = tempfile::tempdir().unwrap();
    let store = world_store(dir.path(), 800);
    let snap = dir.path().join("snap");
    kale_ok(&["snapshot", store.to_str().unwrap(), snap.to_str().unwrap()]);
    let paths = |s: &Path| {
        kale_ok(&[
            "paths",
            s.to_str().unwrap(),
            "--from",
            "http://kale.example/entity/Q1",
            "--to",
            "http://kale.example/entity/Q7",
            "--json",
        ])
    };
    assert_eq!(stats(&snap)["triples"], stats(&store)["triples"]);
    assert_eq!(paths(&snap), paths(&store));
    assert_eq!(
        kale_ok(&["dump", snap.to_str().unwrap()]),
        kale_ok(&["dump", store.to_str().unwrap()])
    );

    // Writes to the original after the snapshot stay out of it.
    let before = stats(&snap)["triples"].as_u64().unwrap();
    let extra = dir.path().join("extra.nt");
    std::fs::write(
        &extra,
        "<http://kale.example/entity/Q1> <http://e/p> <http://e/o> .\n",
    )
    .unwrap();
    kale_ok(&["load", store.to_str().unwrap(), extra.to_str().unwrap()]);
    kale_ok(&["index", store.to_str().unwrap()]);
    assert_eq!(stats(&store)["triples"].as_u64().unwrap(), before + 1);
    assert_eq!(stats(&snap)["triples"].as_u64().unwrap(), before);
    assert!(!paths(&snap).is_empty());

    // A snapshot never overwrites.
    let out = kale(&["snapshot", store.to_str().unwrap(), snap.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
}

#[test]
fn load_reads_standard_input_with_its_format_named() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let from_file = world_store(dir.path(), 300);
    let nt = dir.path().join("w.nt");

    let from_stdin = dir.path().join("b");
    let load_stdin = |extra: &[&str], input: &[u8]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kale"))
            .args(["load", from_stdin.to_str().unwrap(), "-", "--quiet"])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A reader that stops early (an error) closes the pipe: that is no failure here.
        let _ = child.stdin.take().unwrap().write_all(input);
        child.wait_with_output().unwrap()
    };
    let text = std::fs::read(&nt).unwrap();
    let out = load_stdin(&[], &text);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--format"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = load_stdin(&["--format", "nt"], &text);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stats(&from_stdin)["triples"], stats(&from_file)["triples"]);
    assert_eq!(
        kale_ok(&["dump", from_stdin.to_str().unwrap()]),
        kale_ok(&["dump", from_file.to_str().unwrap()])
    );

    // A bad line on standard input names it as `-` with its line, and changes nothing.
    let out = load_stdin(&["--format", "nt"], b"<http://e/a> <http://e/b> .\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("-:1"), "{err}");
    assert_eq!(stats(&from_stdin)["triples"], stats(&from_file)["triples"]);
}

#[test]
fn wikidata_direct_claims_are_named_by_their_property_label() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wd.nt");
    let wd = "http://www.wikidata.org/entity/";
    let wdt = "http://www.wikidata.org/prop/direct/";
    let label = "http://www.w3.org/2000/01/rdf-schema#label";
    let name = "http://schema.org/name";
    std::fs::write(
        &file,
        [
            format!("<{wd}Q7186> <{wdt}P19> <{wd}Q270> ."),
            format!("<{wd}Q270> <{wdt}P17> <{wd}Q36> ."),
            format!("<{wd}Q7186> <{label}> \"Marie Curie\"@en ."),
            format!("<{wd}Q270> <{label}> \"Warsaw\"@en ."),
            format!("<{wd}Q36> <{name}> \"Poland\"@en ."),
            format!("<{wd}P19> <{label}> \"place of birth\"@en ."),
            format!("<{wd}P19> <{label}> \"Geburtsort\"@de ."),
            format!("<{wd}P19> <http://wikiba.se/ontology#directClaim> <{wdt}P19> ."),
            format!("<{wd}P17> <http://wikiba.se/ontology#directClaim> <{wdt}P17> ."),
            format!("<{wd}P17> <{name}> \"country\"@en ."),
        ]
        .join("\n"),
    )
    .unwrap();
    let store = dir.path().join("store");
    kale_ok(&["load", store.to_str().unwrap(), file.to_str().unwrap()]);
    let paths = |lang: &str| {
        kale_ok(&[
            "paths",
            store.to_str().unwrap(),
            "--from",
            &format!("{wd}Q7186"),
            "--to",
            &format!("{wd}Q36"),
            "--lang",
            lang,
        ])
    };
    let text = paths("en");
    assert!(
        text.contains("-[place of birth]->") && text.contains("-[country]->"),
        "{text}"
    );
    assert!(paths("de").contains("-[Geburtsort]->"));
}

#[test]
fn load_keeps_text_in_the_languages_asked_for_and_counts_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("labels.nt");
    let label = "<http://www.w3.org/2000/01/rdf-schema#label>";
    let alt = "<http://www.w3.org/2004/02/skos/core#altLabel>";
    let description = "<http://schema.org/description>";
    let sun = "<http://e/sun>";
    let lines = [
        format!("{sun} {label} \"Sun\"@en ."),
        format!("{sun} {label} \"Sun\"@en-gb ."),
        format!("{sun} {label} \"Sonne\"@de ."),
        format!("{sun} {label} \"Soleil\"@fr ."),
        format!("{sun} {alt} \"Sol\"@es ."),
        format!("{sun} {description} \"étoile\"@fr ."),
        format!("{sun} {description} \"star\"@en ."),
        format!("{sun} {label} \"SUN-1\" ."),
        format!("{sun} <http://e/motto> \"lumière\"@fr ."),
        format!("{sun} <http://e/emits> <http://e/light> ."),
    ];
    std::fs::write(&file, lines.join("\n")).unwrap();
    let store = dir.path().join("store");
    let out = kale(&[
        "load",
        store.to_str().unwrap(),
        file.to_str().unwrap(),
        "--languages",
        "en,DE",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("3 text triples in other languages left out"),
        "{err}"
    );
    assert_eq!(stats(&store)["triples"], 7);
    let dump = kale_ok(&["dump", store.to_str().unwrap()]);
    assert!(!dump.contains("Soleil") && !dump.contains("\"Sol\"") && !dump.contains("étoile"));
    for kept in [
        "\"Sonne\"@de",
        "\"Sun\"@en-gb",
        "\"SUN-1\"",
        "lumière",
        "\"star\"@en",
    ] {
        assert!(dump.contains(kept), "{kept} missing:\n{dump}");
    }
    // The dropped literals never reached the dictionary.
    assert_eq!(stats(&store)["literals"], 6);

    let out = kale(&[
        "load",
        store.to_str().unwrap(),
        file.to_str().unwrap(),
        "--languages",
        ";",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--languages"));
}

#[test]
fn a_small_load_updates_the_indexes_in_place_and_answers_as_a_full_rebuild_does() {
    let dir = tempfile::tempdir().unwrap();
    let store = world_store(dir.path(), 3000);
    let s = store.to_str().unwrap();
    let entity = |q: u32| format!("http://kale.example/entity/Q{q}");
    let label = "http://www.w3.org/2000/01/rdf-schema#label";
    let world = std::fs::read_to_string(dir.path().join("w.nt")).unwrap();
    // New entities tied to existing ones, new labels (one on an existing entity), a new edge
    // between existing entities, a blank node, and a triple the store already has.
    let added = dir.path().join("added.nt");
    let new = |n: u32| format!("http://kale.example/entity/N{n}");
    let mut text = format!(
        concat!(
            "<{n1}> <http://kale.example/prop/P19> <{a}> .\n",
            "<{b}> <http://kale.example/prop/P31> <{n1}> .\n",
            "<{n1}> <{label}> \"Zorbatown\"@en .\n",
            "<{n2}> <{label}> \"Quexlin Harbour\"@en .\n",
            "<{n2}> <http://kale.example/prop/P19> <{n1}> .\n",
            "<{a}> <{label}> \"Old Vandermere\"@en .\n",
            "<{b}> <http://kale.example/prop/P279> <{c}> .\n",
            "_:x <http://kale.example/prop/P19> <{a}> .\n",
        ),
        n1 = new(1),
        n2 = new(2),
        a = entity(120),
        b = entity(2500),
        c = entity(1800),
        label = label,
    );
    text.push_str(world.lines().nth(5000).unwrap());
    text.push('\n');
    std::fs::write(&added, &text).unwrap();

    let csr = store.join("adjacency/graph.csr");
    let csr_before = std::fs::read(&csr).unwrap();
    let modified = std::fs::metadata(&csr).unwrap().modified().unwrap();
    let before = stats(&store)["triples"].as_u64().unwrap();
    let load = kale(&["load", s, added.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&load.stderr);
    assert!(load.status.success(), "{out}");
    assert!(out.contains("indexes updated in place"), "{out}");
    assert!(out.contains("8 new, 1 duplicate"), "{out}");
    assert!(!out.contains("adjacency:"), "{out}");
    assert_eq!(stats(&store)["triples"].as_u64().unwrap(), before + 8);
    assert_eq!(
        std::fs::read(&csr).unwrap(),
        csr_before,
        "the CSR was rewritten"
    );
    assert_eq!(
        std::fs::metadata(&csr).unwrap().modified().unwrap(),
        modified
    );

    // The same triples bulk-loaded from scratch, indexes built in full.
    let full = dir.path().join("full");
    let f = full.to_str().unwrap();
    kale_ok(&[
        "load",
        f,
        dir.path().join("w.nt").to_str().unwrap(),
        added.to_str().unwrap(),
    ]);
    let answers = |store: &str| {
        let pairs = [
            (new(1), entity(120)),
            (new(2), entity(2500)),
            (entity(2500), entity(120)),
            (entity(2500), entity(1800)),
            (entity(120), entity(1800)),
        ];
        let paths: Vec<BTreeSet<String>> = pairs
            .iter()
            .map(|(from, to)| {
                lines(&kale_ok(&[
                    "paths",
                    store,
                    "--from",
                    from,
                    "--to",
                    to,
                    "--max-hops",
                    "3",
                ]))
            })
            .collect();
        let linked = kale_ok(&[
            "link",
            store,
            "From Zorbatown to Quexlin Harbour by Old Vandermere",
            "--json",
        ]);
        (paths, linked)
    };
    let (paths, linked) = answers(s);
    assert!(
        paths[0].iter().any(|l| l.contains("N1")),
        "no path through the new edge: {:?}",
        paths[0]
    );
    let linked_json: Vec<Value> = serde_json::from_str(&linked).unwrap();
    assert_eq!(linked_json.len(), 3, "{linked}");
    assert_eq!((paths.clone(), linked.clone()), answers(f));
    assert_eq!(kale_ok(&["dump", s]), kale_ok(&["dump", f]));

    // Rebuilding in place folds the delta in and changes no answer; nor does merging the
    // tables, whose level-0 files the small load left.
    kale_ok(&["index", s]);
    assert_eq!((paths.clone(), linked.clone()), answers(s));
    kale_ok(&["compact", s]);
    assert_eq!((paths, linked), answers(s));
    assert_eq!(kale_ok(&["dump", s]), kale_ok(&["dump", f]));
}

#[test]
fn a_wikidata_shaped_world_in_ten_languages_loads_with_two_and_names_direct_claims() {
    let dir = tempfile::tempdir().unwrap();
    let nt = dir.path().join("wd.nt");
    let nt_s = nt.to_str().unwrap();
    kale_ok(&[
        "gen",
        "world",
        "--entities",
        "1500",
        "--languages",
        "10",
        "--out",
        nt_s,
    ]);
    let text = std::fs::read_to_string(&nt).unwrap();
    assert!(text.contains(
        "<http://www.wikidata.org/entity/P19> <http://wikiba.se/ontology#directClaim> <http://www.wikidata.org/prop/direct/P19> ."
    ));
    // Text in the other eight languages, counted independently of the loader.
    let text_predicates = [
        "<http://www.w3.org/2000/01/rdf-schema#label>",
        "<http://schema.org/name>",
        "<http://schema.org/description>",
        "<http://www.w3.org/2004/02/skos/core#altLabel>",
    ];
    let foreign = text
        .lines()
        .filter(|l| text_predicates.iter().any(|p| l.contains(p)))
        .filter(|l| !(l.ends_with("@en .") || l.ends_with("@de .")))
        .count();
    assert!(
        foreign * 2 > text.lines().count(),
        "most triples are other languages' text"
    );
    let store = dir.path().join("store");
    let out = kale(&[
        "load",
        store.to_str().unwrap(),
        nt_s,
        "--languages",
        "en,de",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{foreign} text triples in other languages left out"
        )),
        "{foreign}: {stderr}"
    );
    // A direct claim is named by its property's label, through wikibase:directClaim.
    let paths = kale_ok(&[
        "paths",
        store.to_str().unwrap(),
        "--from",
        "http://www.wikidata.org/entity/Q100",
        "--to",
        "http://www.wikidata.org/entity/Q20",
        "--max-hops",
        "2",
    ]);
    assert!(
        paths.contains("-[country]->") || paths.contains("<-[country]-"),
        "{paths}"
    );
    assert!(!paths.contains("prop/direct"), "{paths}");
    let no_french = kale_ok(&[
        "sparql",
        store.to_str().unwrap(),
        "ASK { ?s ?p ?o FILTER(LANG(?o) = \"fr\") }",
    ]);
    assert!(no_french.contains("false"), "{no_french}");
}
