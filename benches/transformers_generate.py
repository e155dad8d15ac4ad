"""The reference for `kale bench generate`: transformers' `generate` (greedy, float32, eager)
on the same model and the same prompts, with and without its KV cache, on the same thread count.
Prints JSON like `kale bench generate --json`.

    .venv/bin/python benches/transformers_generate.py MODEL_DIR PROMPTS_JSON
        [--batches 1,8 --cache on,off --runs 3 --uncached-runs 1 --threads 2]

PROMPTS_JSON is what `kale bench generate --save-prompts` writes: the prompt ids (row r of a
batch of b is prompts[r] for r < b), the stop tokens and the number of new tokens. The stop
tokens are ruled out until the limit (`min_new_tokens`), as kale's bench does, so both generate
exactly that many tokens. Tokens per second: new tokens of all rows over the median call's wall
time, the prompt's reading included; one short untimed call per batch size first.
"""
import argparse
import json
import time

import torch
from transformers import AutoModelForCausalLM


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("prompts")
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--cache", default="on,off")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--uncached-runs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    spec = json.load(open(args.prompts))
    prompts, stops, new = spec["prompts"], spec["stop_tokens"], spec["new_tokens"]
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32).eval()

    def call(batch, use_cache, n):
        ids = torch.tensor(prompts[:batch])
        started = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                 max_new_tokens=n, min_new_tokens=n, use_cache=use_cache,
                                 eos_token_id=stops or None, pad_token_id=0)
        ms = (time.perf_counter() - started) * 1e3
        return ms, out[0, ids.shape[1]:].tolist()

    runs = []
    for batch in [int(b) for b in args.batches.split(",")]:
        call(batch, True, min(4, new))
        for setting in args.cache.split(","):
            use_cache = setting == "on"
            n = max(1, args.runs if use_cache else args.uncached_runs)
            times, first = [], []
            for _ in range(n):
                ms, first = call(batch, use_cache, new)
                times.append(ms)
            times_sorted = sorted(times)
            median_ms = times_sorted[len(times_sorted) // 2]
            runs.append({"batch": batch, "kv_cache": use_cache,
                         "tokens_per_sec": batch * new / (median_ms / 1e3), "median_ms": median_ms,
                         "runs_ms": times, "first_tokens": first})
    print(json.dumps({"model": args.model, "prompt": len(prompts[0]), "new_tokens": new,
                      "threads": torch.get_num_threads(), "device": "cpu",
                      "transformers": __import__("transformers").__version__,
                      "torch": torch.__version__, "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
