//! Greedy text generation: what a user runs to see that a model (an imported one, a fine-tuned
//! one) answers sensibly. Recomputes the whole prefix each step (no key/value cache): generation
//! here is for inspection, not serving.

use crate::error::Result;
use crate::model::CausalLm;
use crate::tokenizer::TextTokenizer;
use tch::{Kind, Tensor};

/// The ChatML turn markers of instruction-tuned models such as SmolLM2 and Qwen2.
const IM_START: &str = "<|im_start|>";

/// Wraps a user message in the model's chat format when its tokenizer has one (ChatML); else
/// returns the text as it is.
pub fn chat_prompt(tokenizer: &TextTokenizer, message: &str) -> String {
    if tokenizer.token_id(IM_START).is_some() {
        format!("{IM_START}user\n{message}<|im_end|>\n{IM_START}assistant\n")
    } else {
        message.to_owned()
    }
}

/// Greedy continuation of `prompt`: at most `max_tokens` new tokens, stopping at the end-of-text
/// token (or ChatML's end of turn). Returns the new tokens' ids.
pub fn greedy(
    model: &CausalLm,
    tokenizer: &TextTokenizer,
    prompt: &[i64],
    max_tokens: usize,
) -> Result<Vec<i64>> {
    let stops: Vec<i64> = tokenizer
        .eos
        .into_iter()
        .chain(tokenizer.token_id("<|im_end|>"))
        .collect();
    let max_len = model.config.max_positions as usize;
    let mut ids = prompt.to_vec();
    let mut new = Vec::new();
    tch::no_grad(|| -> Result<()> {
        for _ in 0..max_tokens {
            let window = &ids[ids.len().saturating_sub(max_len)..];
            let input = Tensor::from_slice(window)
                .view([1, -1])
                .to_device(model.device());
            // Only the last position's logits: the next token.
            let last = Tensor::from_slice(&[window.len() as i64 - 1]).to_device(model.device());
            let logits = model.forward_rows(&input, &last, false);
            let next = logits
                .to_kind(Kind::Float)
                .argmax(-1, false)
                .int64_value(&[0]);
            if stops.contains(&next) {
                break;
            }
            ids.push(next);
            new.push(next);
        }
        Ok(())
    })?;
    Ok(new)
}
