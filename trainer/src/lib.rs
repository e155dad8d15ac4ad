#![doc = include_str!("../README.md")]

pub mod bench;
pub mod chat;
pub mod checkpoint;
pub mod config;
pub mod data;
mod error;
pub mod eval;
pub mod generate;
pub mod gguf;
pub mod job;
pub mod lora;
pub mod loss;
pub mod metrics;
pub mod model;
pub mod optim;
pub mod prompt;
pub mod runtime;
pub mod stream;
pub mod tokenizer;
pub mod train;
pub mod writer;

pub use error::{Result, TrainerError};

#[cfg(test)]
mod tests {
    use tch::{nn, nn::Module, nn::OptimizerConfig, Device, Kind, Tensor};

    /// The heavy dependency path works: libtorch links, and a forward and backward pass and an
    /// AdamW step run on the CPU with the gradients autograd should give.
    #[test]
    fn libtorch_forward_backward_and_adamw_step() {
        let vs = nn::VarStore::new(Device::Cpu);
        let linear = nn::linear(vs.root(), 3, 1, Default::default());
        let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0]).view([1, 3]);
        let y = linear.forward(&x);
        let loss = y.sum(Kind::Float);
        loss.backward();
        // d(w·x + b)/dw = x, d/db = 1.
        let grad = linear.ws.grad();
        let expected = Tensor::from_slice(&[1.0f32, 2.0, 3.0]).view([1, 3]);
        assert!(grad.allclose(&expected, 1e-6, 1e-6, false));
        let before = linear.ws.copy();
        let mut opt = nn::AdamW::default().build(&vs, 1e-2).unwrap();
        opt.step();
        assert!(!linear.ws.allclose(&before, 0.0, 0.0, false));
    }
}
