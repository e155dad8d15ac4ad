#!/usr/bin/env python3
"""lm-evaluation-harness's multiple-choice scoring, computed with transformers: the reference
`kale eval` is checked against (tests/model_cli.rs) and timed against (scripts/bench.sh).

For each item the harness's prompt (`doc_to_text`) and each choice's continuation
(`target_delimiter` + `doc_to_choice`) are split into ids as lm_eval's `_encode_pair` does
(the prompt's trailing spaces move to the continuation; the continuation's ids are those of the
whole text after the prompt's), every (prompt, continuation) pair is one sequence, sequences are
sorted longest first and run in batches, padded on the right, as the harness's HFLM runs them.
`acc` picks the highest summed log-probability, `acc_norm` the highest sum divided by the
choice's length in characters.

  harness_scorer.py MODEL_DIR ITEMS.jsonl [--format cloze|stem|letters|mmlu] [--limit N]
                    [--batch 32] [--threads 2] [--add-bos auto|yes|no]

No BOS token is added, as the harness encodes for causal models, unless the model's
tokenizer_config.json says `add_bos_token: true` (`--add-bos auto`, what the harness's
`add_bos_token=True` model argument does; kale follows the same flag).

ITEMS is any file kale reads (plain JSONL with question/choices/answer, or the HF form of
ARC/OBQA/CSQA). Prints one JSON object: per item the log-likelihoods, and acc, acc_norm, seconds.
"""
import argparse
import json
import os
import time

import torch

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def read_items(path, limit):
    items = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            d = json.loads(line)
            if isinstance(d.get("choices"), dict):  # the HF form of ARC, OBQA, CSQA
                labels, texts = d["choices"]["label"], d["choices"]["text"]
                question = d.get("question_stem", d.get("question"))
                answer = labels.index(d["answerKey"].strip())
            else:
                texts, question = d["choices"], d["question"]
                answer = d["answer"] if isinstance(d["answer"], int) else texts.index(d["answer"])
            items.append({"question": question, "choices": texts, "answer": answer,
                          "subject": d.get("subject") or d.get("kind") or "general knowledge"})
            if limit and len(items) >= limit:
                break
    return items


def doc_to_text(item, fmt):
    lettered = "".join(f"{LETTERS[i]}. {c}\n" for i, c in enumerate(item["choices"]))
    if fmt == "cloze":  # arc_easy / arc_challenge
        return f"Question: {item['question']}\nAnswer:"
    if fmt == "stem":  # openbookqa
        return item["question"]
    if fmt == "letters":  # commonsense_qa
        return f"Question: {item['question']}\n{lettered}Answer:"
    if fmt == "mmlu":
        subject = item["subject"].replace("_", " ")
        return (f"The following are multiple choice questions (with answers) about {subject}.\n\n"
                f"{item['question']}\n{lettered}Answer:")
    raise SystemExit(f"unknown format {fmt}")


def doc_to_choice(item, fmt):
    if fmt in ("letters", "mmlu"):
        return [LETTERS[i] for i in range(len(item["choices"]))]
    return item["choices"]


def encode_pair(tok, context, continuation, bos):
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces > 0:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    start = [bos] if bos is not None else []
    whole = start + tok.encode(context + continuation, add_special_tokens=False)
    context_enc = start + tok.encode(context, add_special_tokens=False)
    return context_enc, whole[len(context_enc):]


def bos_of(model_dir, tok, mode):
    if mode == "no":
        return None
    if mode == "auto":
        path = os.path.join(model_dir, "tokenizer_config.json")
        config = json.load(open(path)) if os.path.exists(path) else {}
        if not config.get("add_bos_token"):
            return None
    return tok.bos_token_id


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("items")
    ap.add_argument("--format", default="cloze")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--add-bos", choices=["auto", "yes", "no"], default="auto")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from transformers import AutoModelForCausalLM, AutoTokenizer
    tok = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32).eval()
    items = read_items(args.items, args.limit)
    bos = bos_of(args.model, tok, args.add_bos)
    started = time.perf_counter()
    requests = []  # (context ids, continuation ids, item, choice)
    for i, item in enumerate(items):
        context = doc_to_text(item, args.format)
        for c, choice in enumerate(doc_to_choice(item, args.format)):
            ctx, cont = encode_pair(tok, context, " " + choice, bos)
            requests.append((ctx, cont, i, c))
    # Longest first, as the harness's collator orders them.
    requests.sort(key=lambda r: -(len(r[0]) + len(r[1])))
    lls = [[None] * len(doc_to_choice(item, args.format)) for item in items]
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    with torch.no_grad():
        for start in range(0, len(requests), args.batch):
            chunk = requests[start:start + args.batch]
            inputs = [(ctx + cont)[:-1] for ctx, cont, _, _ in chunk]
            width = max(len(x) for x in inputs)
            batch = torch.tensor([x + [pad] * (width - len(x)) for x in inputs])
            logp = torch.log_softmax(model(batch).logits.float(), dim=-1)
            for row, (ctx, cont, i, c) in enumerate(chunk):
                n = len(inputs[row])
                picked = logp[row, n - len(cont):n].gather(1, torch.tensor(cont).unsqueeze(1))
                lls[i][c] = picked.sum().item()
    seconds = time.perf_counter() - started
    acc = acc_norm = 0
    out = []
    for item, ll in zip(items, lls):
        lengths = [float(len(c)) for c in doc_to_choice(item, args.format)]
        chosen = max(range(len(ll)), key=lambda k: (ll[k], -k))
        chosen_norm = max(range(len(ll)), key=lambda k: (ll[k] / lengths[k], -k))
        acc += chosen == item["answer"]
        acc_norm += chosen_norm == item["answer"]
        out.append({"lls": ll, "chosen_acc": chosen, "chosen_acc_norm": chosen_norm})
    n = max(len(items), 1)
    print(json.dumps({"items": out, "acc": acc / n, "acc_norm": acc_norm / n,
                      "seconds": seconds, "count": len(items)}))


if __name__ == "__main__":
    main()
