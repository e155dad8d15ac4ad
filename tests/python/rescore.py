"""Recomputes `kale eval --json` scores with Hugging Face transformers: for every item and
choice, the summed log-probability of the choice's ids after the prompt ids. Prints the largest
difference from kale's `logprob_sum` and whether every `chosen` index agrees.

    rescore.py MODEL_DIR EVAL_JSON
"""
import json
import sys

import torch
from transformers import AutoModelForCausalLM


def main(model_dir, report_path):
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    report = json.load(open(report_path))
    worst, agree = 0.0, True
    for item in report["items"]:
        prompt = item["prompt_ids"]
        scores = []
        for choice in item["choices"]:
            ids = torch.tensor([prompt + choice["ids"]])
            with torch.no_grad():
                logp = torch.log_softmax(model(ids).logits[0].double(), -1)
            total = sum(logp[len(prompt) - 1 + j, t].item() for j, t in enumerate(choice["ids"]))
            worst = max(worst, abs(total - choice["logprob_sum"]))
            scores.append(total / len(choice["ids"]))
        agree &= max(range(len(scores)), key=scores.__getitem__) == item["chosen"]
    print(json.dumps({"max_diff": worst, "chosen_agree": agree, "items": len(report["items"])}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
