//! Where and how libtorch runs: the device, its threads, its random seed. The command line
//! reaches libtorch only through here.

use crate::error::{Result, TrainerError};

pub use tch::Device;

/// `cpu`, `cuda` or `cuda:N`; asking for CUDA where libtorch sees none is an error.
pub fn parse_device(name: &str) -> Result<Device> {
    let device = match name {
        "cpu" => Device::Cpu,
        "cuda" => Device::Cuda(0),
        other => match other.strip_prefix("cuda:").and_then(|n| n.parse().ok()) {
            Some(n) => Device::Cuda(n),
            None => {
                return Err(TrainerError::InvalidInput(format!(
                    "unknown device {other:?}: use cpu, cuda or cuda:N"
                )))
            }
        },
    };
    if device.is_cuda() && !tch::Cuda::is_available() {
        return Err(TrainerError::InvalidInput(format!(
            "{name} was asked for but libtorch sees no CUDA device"
        )));
    }
    Ok(device)
}

/// libtorch's intra-op threads.
pub fn set_threads(threads: i32) {
    tch::set_num_threads(threads);
}

/// Seeds libtorch's random numbers (fresh weights, dropout).
pub fn seed(seed: i64) {
    tch::manual_seed(seed);
}
