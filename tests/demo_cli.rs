//! `kale demo --quick`: the README's main command, reduced for CI, end to end.

mod common;

use common::kale_ok;
use serde_json::Value;

#[test]
fn the_quick_demo_reports_sft_and_ka_with_their_charts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let printed = kale_ok(&["demo", "--quick", "--out", out.to_str().unwrap()]);
    for shown in [
        "path query",
        "SPARQL",
        "?predicate",
        "known&incorrect",
        "report.json",
    ] {
        assert!(
            printed.contains(shown),
            "{shown:?} not in the output:\n{printed}"
        );
    }
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let result = &report["result"];
    for objective in ["sft", "ka"] {
        let row = &result["objectives"][objective];
        for key in [
            "accuracy",
            "acc",
            "acc_norm",
            "known_incorrect",
            "facts",
            "choice_mass",
        ] {
            let v = row[key].as_f64().unwrap_or(-1.0);
            assert!((0.0..=1.0).contains(&v), "{objective}.{key} = {}", row[key]);
        }
        assert!(row["items"].as_u64().unwrap() >= 20);
    }
    assert_eq!(result["objectives"]["ka"]["teacher"], "frozen");
    // The teacher was taught to read rationales: far above chance with one in the prompt.
    let teacher = result["base"]["oracle"]["accuracy"].as_f64().unwrap();
    assert!(teacher > 0.5, "teacher accuracy with rationale {teacher}");
    for chart in ["curves.png", "results.png"] {
        let bytes = std::fs::read(out.join(chart)).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "{chart} is not a PNG");
        assert!(bytes.len() > 10_000, "{chart} looks empty");
    }
    for metrics in ["sft/metrics.jsonl", "ka/metrics.jsonl"] {
        let text = std::fs::read_to_string(out.join(metrics)).unwrap();
        assert!(
            text.lines().any(|l| l.contains("\"eval\"")),
            "{metrics} has no evaluations"
        );
    }
}
