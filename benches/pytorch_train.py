"""The reference for `kale bench train`: the same model, batches and objectives in PyTorch eager
with transformers (and PEFT for LoRA), on the same thread count. Prints JSON like
`kale bench train --json`.

    .venv/bin/python benches/pytorch_train.py [--layers 4 --hidden 256 --heads 4 --vocab 4096
        --batch 8 --prompt 48 --answer 16 --rationale 32 --steps 30 --warmup 5 --threads 2
        --logits answer|all --objectives sft,ka,ka-uncached --teacher-top-k 128]
        [--model DIR --lora-r 16 --lora-alpha 32 --lora-targets q_proj,k_proj,v_proj,o_proj]

As in kale: the data is --warmup batches of random ids cycled; `ka` keeps the frozen teacher's
answer distributions as their top k tokens and the rest's mass, computed on an example's first
visit, the divergence taken over those k + 1 buckets; `ka-uncached` runs the teacher every step.
With LoRA the frozen teacher is the base model (the adapters disabled), as kale's is.
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM


def topk_summary(t_logits, k):
    logq = F.log_softmax(t_logits, -1)
    top, ids = logq.topk(min(k, logq.shape[-1]), -1)
    rest = None
    if ids.shape[-1] < logq.shape[-1]:
        rest = logq.scatter(-1, ids, float("-inf")).logsumexp(-1)
    return ids, top, rest


def bucketed_kl(logits, kept):
    ids, logq, rest = kept
    logp = F.log_softmax(logits, -1).gather(-1, ids)
    if rest is not None:
        p_rest = (1 - logp.exp().sum(-1)).clamp_min(1e-30)
        logp = torch.cat([logp, p_rest.log().unsqueeze(-1)], -1)
        logq = torch.cat([logq, rest.clamp_min(-69).unsqueeze(-1)], -1)
    return (logp.exp() * (logp - logq)).sum(-1)


def main():
    ap = argparse.ArgumentParser()
    for name, default in [("layers", 4), ("hidden", 256), ("heads", 4), ("vocab", 4096), ("batch", 8),
                          ("prompt", 48), ("answer", 16), ("rationale", 32), ("steps", 30), ("warmup", 5),
                          ("threads", 2), ("teacher-top-k", 128), ("lora-r", 0)]:
        ap.add_argument(f"--{name}", type=int, default=default)
    ap.add_argument("--objectives", default="sft,ka,ka-uncached")
    ap.add_argument("--model", default=None)
    ap.add_argument("--lora-alpha", type=float, default=32.0)
    ap.add_argument("--lora-targets", default="q_proj,k_proj,v_proj,o_proj")
    # transformers' logits_to_keep: the output projection for the answer positions only, as kale
    # does; "all" is transformers' default (every position).
    ap.add_argument("--logits", choices=["answer", "all"], default="answer")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.model is None:
        # The intermediate size kale's init-model gives (8/3 of hidden, rounded to 8, plus 8).
        intermediate = a.hidden * 8 // 3 // 8 * 8 + 8
        config = LlamaConfig(vocab_size=a.vocab, hidden_size=a.hidden, num_hidden_layers=a.layers,
                             num_attention_heads=a.heads, num_key_value_heads=a.heads,
                             intermediate_size=intermediate, max_position_embeddings=512,
                             tie_word_embeddings=True, attn_implementation="sdpa")
        make = lambda: LlamaForCausalLM(config)
        vocab = a.vocab
    else:
        make = lambda: AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32,
                                                           attn_implementation="sdpa")
        vocab = make().config.vocab_size
    g = torch.Generator().manual_seed(7)
    data = [(torch.randint(2, vocab, (a.batch, a.prompt), generator=g),
             torch.randint(2, vocab, (a.batch, a.rationale), generator=g),
             torch.randint(2, vocab, (a.batch, a.answer), generator=g)) for _ in range(max(a.warmup, 1))]
    results = []
    for objective in a.objectives.split(","):
        torch.manual_seed(0)
        model = make().train()
        teacher = None
        if a.lora_r > 0:
            from peft import LoraConfig, get_peft_model
            model = get_peft_model(model, LoraConfig(r=a.lora_r, lora_alpha=a.lora_alpha, lora_dropout=0.0,
                                                     target_modules=a.lora_targets.split(",")))
        elif objective != "sft":
            teacher = make().eval()
            teacher.load_state_dict(model.state_dict())
        trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        decay = [p for n, p in trainable if p.ndim >= 2]
        no_decay = [p for n, p in trainable if p.ndim < 2]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                                 {"params": no_decay, "weight_decay": 0.0}], lr=1e-3)
        kept = {}
        rates = []
        for step in range(a.steps + a.warmup):
            index = step % len(data)
            prompt, rationale, answer = data[index]
            start = time.perf_counter()
            student = torch.cat([prompt, answer], 1)
            keep = a.answer + 1 if a.logits == "answer" else 0
            logits = model(input_ids=student, logits_to_keep=keep).logits[:, -a.answer - 1:-1]
            if objective == "sft":
                loss = F.cross_entropy(logits.reshape(-1, vocab), answer.reshape(-1))
            else:
                def teacher_logits():
                    with torch.no_grad():
                        t_ids = torch.cat([prompt, rationale, answer], 1)
                        if teacher is not None:
                            out = teacher(input_ids=t_ids, logits_to_keep=keep)
                        else:
                            with model.disable_adapter():
                                out = model(input_ids=t_ids, logits_to_keep=keep)
                        return out.logits[:, -a.answer - 1:-1]
                if objective == "ka":
                    if index not in kept:
                        kept[index] = topk_summary(teacher_logits(), a.teacher_top_k)
                    loss = bucketed_kl(logits, kept[index]).mean()
                else:
                    logp = F.log_softmax(logits, -1)
                    logq = F.log_softmax(teacher_logits(), -1)
                    loss = (logp.exp() * (logp - logq)).sum(-1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for _, p in trainable], 1.0)
            opt.step()
            elapsed = time.perf_counter() - start
            if step >= a.warmup:
                rates.append(student.numel() / elapsed)
        rate = statistics.median(rates)
        results.append({"objective": objective, "tokens_per_sec": rate,
                        "step_ms": 1e3 * a.batch * (a.prompt + a.answer) / rate,
                        "parameters": sum(p.numel() for p in model.parameters()),
                        "trainable": sum(p.numel() for _, p in trainable)})
    impl = f"PyTorch {torch.__version__} eager, transformers" + (" + PEFT LoRA" if a.lora_r else "")
    print(json.dumps({"implementation": impl, "threads": a.threads, "logits": a.logits,
                      "objectives": results}, indent=2))


if __name__ == "__main__":
    main()
