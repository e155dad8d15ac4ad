//! Greedy text generation with a key/value cache: the prompt is read once, then each new token
//! costs one position. What a user runs to see that a model (an imported one, a fine-tuned one)
//! answers sensibly.

use crate::error::Result;
use crate::model::{Attend, CausalLm};
use crate::tokenizer::TextTokenizer;
use tch::{Kind, Tensor};

/// The ChatML turn markers of instruction-tuned models such as SmolLM2 and Qwen2.
const IM_START: &str = "<|im_start|>";

/// Wraps a user message in the model's chat template when its tokenizer has one (ChatML when it
/// only has ChatML's markers); else returns the text as it is.
pub fn chat_prompt(tokenizer: &TextTokenizer, message: &str) -> Result<String> {
    if tokenizer.chat_template.is_some() {
        tokenizer.apply_chat_template(message)
    } else if tokenizer.token_id(IM_START).is_some() {
        Ok(format!(
            "{IM_START}user\n{message}<|im_end|>\n{IM_START}assistant\n"
        ))
    } else {
        Ok(message.to_owned())
    }
}

/// Greedy continuation of `prompt`: at most `max_tokens` new tokens, stopping at the end-of-text
/// token (or ChatML's end of turn) or at the model's last position. Returns the new tokens' ids.
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
    let device = model.device();
    let prompt = &prompt[prompt.len().saturating_sub(max_len)..];
    let mut new = Vec::new();
    if prompt.is_empty() {
        return Ok(new);
    }
    tch::no_grad(|| -> Result<()> {
        let t = prompt.len() as i64;
        let ids = Tensor::from_slice(prompt).view([1, t]).to_device(device);
        let positions = Tensor::arange(t, (Kind::Int64, device)).unsqueeze(0);
        let mask = Tensor::ones([t, t], (Kind::Bool, device))
            .tril(0)
            .view([1, 1, t, t]);
        let (mut hidden, mut cache) = model.forward_cached(
            &ids,
            &Attend {
                positions: &positions,
                mask: &mask,
                past: None,
                past_rows: None,
                keep: true,
            },
        );
        let mut length = prompt.len();
        while new.len() < max_tokens {
            let last = hidden.select(1, hidden.size()[1] - 1);
            let next = model
                .logits(&last)
                .to_kind(Kind::Float)
                .argmax(-1, false)
                .int64_value(&[0]);
            if stops.contains(&next) {
                break;
            }
            new.push(next);
            if length >= max_len || new.len() == max_tokens {
                break;
            }
            let ids = Tensor::from_slice(&[next]).view([1, 1]).to_device(device);
            let positions = Tensor::from_slice(&[length as i64])
                .view([1, 1])
                .to_device(device);
            let mask = Tensor::ones([1, 1, 1, length as i64 + 1], (Kind::Bool, device));
            let past = cache.take().expect("kept");
            let (h, c) = model.forward_cached(
                &ids,
                &Attend {
                    positions: &positions,
                    mask: &mask,
                    past: Some(&past),
                    past_rows: None,
                    keep: true,
                },
            );
            hidden = h;
            cache = c;
            length += 1;
        }
        Ok(())
    })?;
    Ok(new)
}
