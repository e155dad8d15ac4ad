"""The reference for `kale bench train`: the same model, batches and objectives in PyTorch eager
with transformers' LlamaForCausalLM, on the same thread count. Prints JSON like
`kale bench train --json`.

    .venv/bin/python benches/pytorch_train.py [--layers 4 --hidden 256 --heads 4 --vocab 4096
        --batch 8 --prompt 48 --answer 16 --rationale 32 --steps 30 --warmup 5 --threads 2
        --logits answer|all]
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F
from transformers import LlamaConfig, LlamaForCausalLM


def main():
    ap = argparse.ArgumentParser()
    for name, default in [("layers", 4), ("hidden", 256), ("heads", 4), ("vocab", 4096), ("batch", 8),
                          ("prompt", 48), ("answer", 16), ("rationale", 32), ("steps", 30), ("warmup", 5),
                          ("threads", 2)]:
        ap.add_argument(f"--{name}", type=int, default=default)
    ap.add_argument("--objectives", default="sft,ka")
    # transformers' logits_to_keep: the output projection for the answer positions only, as kale
    # does; "all" is transformers' default (every position).
    ap.add_argument("--logits", choices=["answer", "all"], default="answer")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    # The intermediate size kale's init-model gives (8/3 of hidden, rounded to 8, plus 8).
    intermediate = a.hidden * 8 // 3 // 8 * 8 + 8
    config = LlamaConfig(vocab_size=a.vocab, hidden_size=a.hidden, num_hidden_layers=a.layers,
                         num_attention_heads=a.heads, num_key_value_heads=a.heads,
                         intermediate_size=intermediate, max_position_embeddings=512,
                         tie_word_embeddings=True, attn_implementation="sdpa")
    g = torch.Generator().manual_seed(7)
    results = []
    for objective in a.objectives.split(","):
        model = LlamaForCausalLM(config).train()
        teacher = LlamaForCausalLM(config).eval() if objective != "sft" else None
        if teacher is not None:
            teacher.load_state_dict(model.state_dict())
        decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
        no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                                 {"params": no_decay, "weight_decay": 0.0}], lr=1e-3)
        rates = []
        for step in range(a.steps + a.warmup):
            prompt = torch.randint(2, a.vocab, (a.batch, a.prompt), generator=g)
            rationale = torch.randint(2, a.vocab, (a.batch, a.rationale), generator=g)
            answer = torch.randint(2, a.vocab, (a.batch, a.answer), generator=g)
            start = time.perf_counter()
            student = torch.cat([prompt, answer], 1)
            keep = a.answer + 1 if a.logits == "answer" else 0
            logits = model(student, logits_to_keep=keep).logits[:, -a.answer - 1:-1]
            if objective == "sft":
                loss = F.cross_entropy(logits.reshape(-1, a.vocab), answer.reshape(-1))
            else:
                with torch.no_grad():
                    t_ids = torch.cat([prompt, rationale, answer], 1)
                    t_logits = teacher(t_ids, logits_to_keep=keep).logits[:, -a.answer - 1:-1]
                logp = F.log_softmax(logits, -1)
                logq = F.log_softmax(t_logits, -1)
                loss = (logp.exp() * (logp - logq)).sum(-1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            elapsed = time.perf_counter() - start
            if step >= a.warmup:
                rates.append(student.numel() / elapsed)
        rate = statistics.median(rates)
        results.append({"objective": objective, "tokens_per_sec": rate,
                        "step_ms": 1e3 * a.batch * (a.prompt + a.answer) / rate,
                        "parameters": sum(p.numel() for p in model.parameters())})
    print(json.dumps({"implementation": f"PyTorch {torch.__version__} eager, transformers LlamaForCausalLM",
                      "threads": a.threads, "logits": a.logits, "objectives": results}, indent=2))


if __name__ == "__main__":
    main()
