//! Every QA format read from the fixtures, detection, and errors that name file, line and field.

use kale_datasets::qa::{detect_format, read_items, write_items, QaFormat};
use kale_datasets::DatasetError;
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

#[test]
fn every_format_reads_into_one_item_type() {
    let csqa = read_items(&data("csqa.jsonl"), None).unwrap();
    assert_eq!(csqa.len(), 2);
    assert_eq!(csqa[0].id, "csqa-1");
    assert_eq!(csqa[0].question, "What does the sun emit?");
    assert_eq!(csqa[0].choices.len(), 5);
    assert_eq!(csqa[1].answer_text(), "an oven");

    let arc = read_items(&data("arc.jsonl"), None).unwrap();
    assert_eq!(arc[0].answer_text(), "light", "numeric answer labels");
    let obqa = read_items(&data("obqa.jsonl"), None).unwrap();
    assert_eq!(obqa[0].answer, 1);

    let mmlu = read_items(&data("mmlu.csv"), None).unwrap();
    assert_eq!(mmlu.len(), 2);
    assert_eq!(
        mmlu[1].question,
        "Which planet is known as the \"Red Planet\"?"
    );
    assert_eq!(mmlu[1].answer_text(), "Mars");
    assert_eq!(mmlu[0].choices, ["90", "100", "110", "120"]);

    let race = read_items(&data("race.json"), None).unwrap();
    assert_eq!(race.len(), 2);
    assert_eq!(race[0].id, "middle1234.txt-0");
    assert!(race[1].context.as_deref().unwrap().starts_with("Tom lives"));
    assert_eq!(race[1].answer_text(), "He walks his dog");

    let plain = read_items(&data("plain.jsonl"), None).unwrap();
    assert_eq!(plain[0].id, "p1");
    assert_eq!(plain[1].answer, 1, "an answer given as the choice's text");
    assert_eq!(plain[1].context.as_deref(), Some("Look up at noon."));
    assert_eq!(
        plain[1].id, "plain-2",
        "items without id are named after file and line"
    );
}

#[test]
fn the_flattened_form_hugging_face_writes_reads_like_the_releases() {
    let arc = read_items(&data("hf_arc.jsonl"), None).unwrap();
    assert_eq!(arc.len(), 2);
    assert_eq!(arc[0].id, "Mercury_1");
    assert_eq!(arc[0].answer_text(), "carbon dioxide");
    assert_eq!(
        arc[1].answer_text(),
        "light blocked by an object",
        "numeric labels"
    );
    // OpenBookQA names its question `question_stem`; the release and the HF form agree.
    let obqa = read_items(&data("hf_obqa.jsonl"), None).unwrap();
    let released = read_items(&data("obqa.jsonl"), None).unwrap();
    assert_eq!(obqa[0].question, released[0].question);
    assert_eq!(obqa[0].choices, released[0].choices);
    assert_eq!(obqa[0].answer, released[0].answer);
    // CommonsenseQA's concept is kept for linking, in both forms.
    let csqa = read_items(&data("hf_csqa.jsonl"), None).unwrap();
    assert_eq!(csqa[0].concept.as_deref(), Some("plate"));
    assert_eq!(csqa[0].answer_text(), "cupboard");
    let csqa_release = read_items(&data("csqa.jsonl"), None).unwrap();
    assert_eq!(csqa_release[0].concept.as_deref(), Some("sun"));
    // MMLU as `datasets` writes it: a choice list, an integer answer, the subject as the kind.
    let mmlu = read_items(&data("hf_mmlu.jsonl"), None).unwrap();
    assert_eq!(mmlu[0].answer_text(), "Au");
    assert_eq!(mmlu[0].kind.as_deref(), Some("high_school_chemistry"));
    for file in ["hf_arc.jsonl", "hf_obqa.jsonl", "hf_csqa.jsonl"] {
        assert_eq!(detect_format(&data(file)).unwrap(), QaFormat::Hf, "{file}");
    }
    assert_eq!(
        detect_format(&data("hf_mmlu.jsonl")).unwrap(),
        QaFormat::Plain
    );
    assert_eq!(QaFormat::from_name("hf"), Some(QaFormat::Hf));
    let (file, line, message) = record_error("bad_hf.jsonl");
    assert_eq!((file, line), (data("bad_hf.jsonl"), 2));
    assert!(
        message.contains("`choices.label` has 2 entries but `choices.text` 3"),
        "{message}"
    );
}

#[test]
fn formats_are_detected_and_can_be_named() {
    assert_eq!(detect_format(&data("csqa.jsonl")).unwrap(), QaFormat::Csqa);
    assert_eq!(detect_format(&data("arc.jsonl")).unwrap(), QaFormat::Csqa);
    assert_eq!(detect_format(&data("mmlu.csv")).unwrap(), QaFormat::Mmlu);
    assert_eq!(detect_format(&data("race.json")).unwrap(), QaFormat::Race);
    assert_eq!(
        detect_format(&data("plain.jsonl")).unwrap(),
        QaFormat::Plain
    );
    assert_eq!(QaFormat::from_name("openbookqa"), Some(QaFormat::Csqa));
    let forced = read_items(&data("plain.jsonl"), Some(QaFormat::Plain)).unwrap();
    assert_eq!(forced.len(), 2);
}

fn record_error(file: &str) -> (PathBuf, usize, String) {
    match read_items(&data(file), None) {
        Err(DatasetError::Record {
            file,
            line,
            message,
        }) => (file, line, message),
        other => panic!("{file}: expected a record error, got {other:?}"),
    }
}

#[test]
fn bad_records_name_file_line_and_field() {
    let (file, line, message) = record_error("bad_csqa.jsonl");
    assert_eq!((file, line), (data("bad_csqa.jsonl"), 2));
    assert!(message.contains("answerKey"), "{message}");
    let (_, line, message) = record_error("bad_plain.jsonl");
    assert_eq!(line, 3, "blank lines still count");
    assert!(message.contains("`answer`"), "{message}");
    let (_, line, message) = record_error("bad_mmlu.csv");
    assert_eq!(line, 2);
    assert!(message.contains("\"X\""), "{message}");
    let err = read_items(&data("bad_plain.jsonl"), None)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("{}:3:", data("bad_plain.jsonl").display())),
        "{err}"
    );
}

#[test]
fn written_items_read_back_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let items = read_items(&data("race.json"), None).unwrap();
    let out = dir.path().join("out.jsonl");
    write_items(&out, &items).unwrap();
    assert_eq!(read_items(&out, None).unwrap(), items);
}
