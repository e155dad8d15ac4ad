//! Criterion benches of the trainer's inner loop on a small fresh Llama (4 layers, 256 wide, the
//! shape `kale bench train` measures against PyTorch): a no-grad forward pass, and a training
//! step (forward, the loss at the answer positions, backward) for sft and for ka's student
//! against the frozen teacher kept as its top-k distributions, with the trainer's own losses. `kale bench train` and `benches/pytorch_train.py` give the side-by-side figures.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kale_trainer::config::{Arch, ModelConfig, ModelShape};
use kale_trainer::loss::{
    cross_entropy_terms_logp, divergence_terms_topk_logp, log_probs, Divergence, TopK,
};
use kale_trainer::model::CausalLm;
use kale_trainer::runtime::{self, Device};
use tch::{Kind, Tensor};

const BATCH: i64 = 8;
const LENGTH: i64 = 96;

fn model() -> CausalLm {
    runtime::set_threads(2);
    runtime::seed(0);
    let shape = ModelShape {
        layers: 4,
        hidden_size: 256,
        heads: 4,
        kv_heads: 4,
        max_positions: 256,
        ..ModelShape::tiny(Arch::Llama, 4096)
    };
    CausalLm::new(ModelConfig::new(&shape).unwrap(), Device::Cpu, None)
}

fn trainer(c: &mut Criterion) {
    let model = model();
    let ids = Tensor::randint(4096, [BATCH, LENGTH], (Kind::Int64, Device::Cpu));
    let targets = ids.roll([-1], [1]);
    let mut group = c.benchmark_group("model");
    group.sample_size(20);
    group.throughput(Throughput::Elements((BATCH * LENGTH) as u64));
    group.bench_function("forward-no-grad", |b| {
        b.iter(|| {
            tch::no_grad(|| {
                model
                    .forward(&ids, false)
                    .sum(Kind::Float)
                    .double_value(&[])
            })
        });
    });
    // The answer positions (the last 16 of each row) are what the losses read, as in training.
    let answer = Tensor::arange_start(LENGTH - 16, LENGTH, (Kind::Int64, Device::Cpu));
    let rows = |t: &Tensor| t.index_select(1, &answer).reshape([-1, 4096]);
    let gold = targets.index_select(1, &answer).reshape([-1]);
    group.bench_function("sft-step", |b| {
        b.iter(|| {
            let logp = log_probs(&rows(&model.forward(&ids, true)), 1.0);
            let loss = cross_entropy_terms_logp(&logp, &gold).mean(Kind::Float);
            loss.backward();
            loss.double_value(&[])
        });
    });
    // The frozen teacher kept as its top-128 distributions, computed once as training does.
    let teacher = tch::no_grad(|| TopK::of(&rows(&model.forward(&ids, false)), 128, 1.0));
    group.bench_function("ka-step", |b| {
        b.iter(|| {
            let logp = log_probs(&rows(&model.forward(&ids, true)), 1.0);
            let loss = divergence_terms_topk_logp(&logp, &teacher, Divergence::Forward, 1.0)
                .mean(Kind::Float);
            loss.backward();
            loss.double_value(&[])
        });
    });
    group.finish();
}

criterion_group!(benches, trainer);
criterion_main!(benches);
