//! The KA objective against a direct PyTorch computation of the same formula, on the same
//! weights and batch; the teacher gets no gradient. Resume exactness and LoRA round trips.

mod common;

use common::python;
use kale_trainer::checkpoint::load_model;
use kale_trainer::config::{Arch, ModelConfig, ModelShape};
use kale_trainer::data::Tokenized;
use kale_trainer::loss::{Divergence, Objective};
use kale_trainer::model::CausalLm;
use kale_trainer::train::{TeacherKind, TrainConfig, Trainer};
use serde_json::{json, Value};
use tch::{Device, Tensor};

/// Two examples with rationales, as token ids of the tiny reference vocabulary.
fn batch() -> Vec<Tokenized> {
    vec![
        Tokenized {
            prompt: vec![1, 5, 9, 23],
            with_rationale: Some(vec![1, 5, 9, 40, 41, 42, 23]),
            answer: vec![7, 3, 99],
        },
        Tokenized {
            prompt: vec![4, 8, 15, 16, 2],
            with_rationale: Some(vec![4, 8, 15, 60, 61, 16, 2]),
            answer: vec![42, 0],
        },
    ]
}

fn padded(rows: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let width = rows.iter().map(Vec::len).max().unwrap();
    rows.iter()
        .map(|r| {
            let mut r = r.clone();
            r.resize(width, 1);
            r
        })
        .collect()
}

/// Training computes logits only at the answer positions; they must be those rows of the full
/// logits, for both architectures.
#[test]
fn row_logits_are_the_rows_of_the_full_logits() {
    for arch in [Arch::Gpt2, Arch::Llama] {
        let config = ModelConfig::new(&ModelShape {
            hidden_size: 16,
            heads: 2,
            max_positions: 32,
            ..ModelShape::tiny(arch, 50)
        })
        .unwrap();
        let model = CausalLm::new(config, Device::Cpu, None);
        let ids = Tensor::from_slice(&[1i64, 5, 9, 23, 4, 8, 15, 16]).view([2, 4]);
        let rows = Tensor::from_slice(&[1i64, 3, 6]);
        let full = model
            .forward(&ids, false)
            .view([-1, 50])
            .index_select(0, &rows);
        let picked = model.forward_rows(&ids, &rows, false);
        assert_eq!(picked.size(), [3, 50]);
        assert!(full.allclose(&picked, 1e-6, 1e-6, false), "{arch:?}");
    }
}

#[test]
fn ka_loss_and_gradients_match_pytorch() {
    let dir = tempfile::tempdir().unwrap();
    python(&["make", dir.path().to_str().unwrap()]);
    for (direction, divergence, temperature) in [
        ("p||q", Divergence::Forward, 1.0),
        ("q||p", Divergence::Reverse, 2.0),
    ] {
        let model_dir = dir.path().join("llama");
        let items = batch();
        let students: Vec<Vec<i64>> = items
            .iter()
            .map(|t| [t.prompt.clone(), t.answer.clone()].concat())
            .collect();
        let teachers: Vec<Vec<i64>> = items
            .iter()
            .map(|t| [t.with_rationale.clone().unwrap(), t.answer.clone()].concat())
            .collect();
        let positions = |prompts: Vec<usize>| -> Vec<Vec<usize>> {
            prompts
                .iter()
                .zip(&items)
                .map(|(p, t)| (0..t.answer.len()).map(|j| p + j).collect())
                .collect()
        };
        let spec = json!({
            "student_ids": padded(&students),
            "teacher_ids": padded(&teachers),
            "student_positions": positions(items.iter().map(|t| t.prompt.len()).collect()),
            "teacher_positions": positions(items.iter().map(|t| t.with_rationale.as_ref().unwrap().len()).collect()),
            "direction": direction,
            "temperature": temperature,
        });
        std::fs::write(model_dir.join("ka_batch.json"), spec.to_string()).unwrap();
        let reference: Value =
            serde_json::from_str(&python(&["ka", model_dir.to_str().unwrap()])).unwrap();

        // The teacher run every step, and kept once over the whole vocabulary (300 tokens):
        // both are the same formula.
        for teacher_top_k in [None, Some(300)] {
            let loaded = load_model(&model_dir, Device::Cpu, None).unwrap();
            let config = TrainConfig {
                objective: Objective::Ka,
                divergence,
                temperature,
                teacher: TeacherKind::Frozen,
                teacher_top_k,
                ..TrainConfig::default()
            };
            let mut trainer = Trainer::new(loaded.model, &loaded.tokenizer, config, &model_dir);
            let loss = trainer.loss_and_gradients(&items);
            let expected = reference["loss"].as_f64().unwrap();
            assert!(
                (loss - expected).abs() < 1e-5 * expected.abs().max(1.0),
                "{direction} (kept {teacher_top_k:?}): loss {loss} vs {expected}"
            );
            // The student's gradients, parameter by parameter (first elements of each).
            let vars = trainer.model.vs.variables();
            let mut compared = 0;
            for (name, values) in reference["grads"].as_object().unwrap() {
                let grad = vars[name].grad().flatten(0, -1);
                for (i, v) in values.as_array().unwrap().iter().enumerate() {
                    let ours = grad.double_value(&[i as i64]);
                    let theirs = v.as_f64().unwrap();
                    assert!(
                        (ours - theirs).abs() < 1e-5 + 1e-3 * theirs.abs(),
                        "{direction} (kept {teacher_top_k:?}): {name}[{i}]: {ours} vs {theirs}"
                    );
                    compared += 1;
                }
            }
            assert!(compared > 100, "only {compared} gradient values compared");
        }
    }
}

#[test]
fn a_kept_teacher_is_computed_once_and_bounded_by_the_full_divergence() {
    let dir = tempfile::tempdir().unwrap();
    python(&["make", dir.path().to_str().unwrap()]);
    let model_dir = dir.path().join("llama");
    let loss_with = |teacher_top_k| {
        let loaded = load_model(&model_dir, Device::Cpu, None).unwrap();
        let config = TrainConfig {
            objective: Objective::Ka,
            teacher_top_k,
            ..TrainConfig::default()
        };
        let mut trainer = Trainer::new(loaded.model, &loaded.tokenizer, config, &model_dir);
        let first = trainer.loss_and_gradients(&batch());
        let kept = trainer.kept_teacher_examples();
        // The same examples again: nothing new is computed, the loss is the same.
        let again = trainer.loss_and_gradients(&batch());
        assert_eq!(trainer.kept_teacher_examples(), kept);
        assert!((first - again).abs() < 1e-7);
        (first, kept)
    };
    let (full, none_kept) = loss_with(None);
    assert_eq!(none_kept, 0);
    let (exact, kept) = loss_with(Some(300));
    assert_eq!(kept, 2, "one entry per example");
    assert!((full - exact).abs() < 1e-6, "{full} vs {exact}");
    // Below the vocabulary the divergence over the k + 1 buckets never exceeds the full one.
    for k in [1, 16, 64] {
        let (bucketed, _) = loss_with(Some(k));
        assert!(bucketed <= full + 1e-6, "k {k}: {bucketed} > {full}");
        assert!(bucketed >= 0.0);
    }
}

#[test]
fn the_teacher_receives_no_gradient() {
    let dir = tempfile::tempdir().unwrap();
    python(&["make", dir.path().to_str().unwrap()]);
    let model_dir = dir.path().join("gpt2");
    // The live teacher shares the student's weights: only the no-rationale pass may leave a
    // gradient on them; with the frozen copy, the copy's weights get none.
    let loaded = load_model(&model_dir, Device::Cpu, None).unwrap();
    let config = TrainConfig {
        objective: Objective::Ka,
        teacher: TeacherKind::Live,
        ..TrainConfig::default()
    };
    let mut live = Trainer::new(loaded.model, &loaded.tokenizer, config, &model_dir);
    let with_live = live.loss_and_gradients(&batch());
    let loaded = load_model(&model_dir, Device::Cpu, None).unwrap();
    let config = TrainConfig {
        objective: Objective::Ka,
        teacher: TeacherKind::Frozen,
        // The teacher run every step, as the live one is: the same numbers to compare.
        teacher_top_k: None,
        ..TrainConfig::default()
    };
    let mut frozen = Trainer::new(loaded.model, &loaded.tokenizer, config, &model_dir);
    let with_frozen = frozen.loss_and_gradients(&batch());
    // At the start both teachers are the same weights: the same loss and the same gradients.
    assert!((with_live - with_frozen).abs() < 1e-6);
    for (name, var) in live.model.vs.variables() {
        let other = &frozen.model.vs.variables()[&name];
        assert!(
            var.grad().allclose(&other.grad(), 1e-5, 1e-7, false),
            "{name}: the teacher pass leaked a gradient"
        );
    }
}
