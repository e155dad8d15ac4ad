"""Recomputes `kale eval --json` scores with Hugging Face transformers: for every item and
choice, the summed log-probability of the choice's ids after the prompt ids and that of its first
token alone; and the report's `choice_mass` (the mean next-token probability of the choices'
distinct first tokens). Prints the largest difference from kale's `logprob_sum` and
`first_logprob`, the difference in `choice_mass`, and whether every pick agrees: `chosen_acc`
(highest sum), `chosen_acc_norm` (highest sum per character of the choice) and `chosen` (the
default score, acc_norm).

    rescore.py MODEL_DIR EVAL_JSON
"""
import json
import sys

import torch
from transformers import AutoModelForCausalLM


def main(model_dir, report_path):
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    report = json.load(open(report_path))
    worst, agree, mass = 0.0, True, 0.0
    for item in report["items"]:
        prompt = item["prompt_ids"]
        sums, norms, firsts = [], [], {}
        for choice in item["choices"]:
            ids = torch.tensor([prompt + choice["ids"]])
            with torch.no_grad():
                logp = torch.log_softmax(model(ids).logits[0].double(), -1)
            total = sum(logp[len(prompt) - 1 + j, t].item() for j, t in enumerate(choice["ids"]))
            first = logp[len(prompt) - 1, choice["ids"][0]].item()
            firsts[choice["ids"][0]] = first
            worst = max(worst, abs(total - choice["logprob_sum"]), abs(first - choice["first_logprob"]))
            sums.append(total)
            norms.append(total / choice["chars"])
        mass += sum(torch.tensor(list(firsts.values())).exp().tolist()) / len(report["items"])
        pick = lambda scores: max(range(len(scores)), key=lambda k: (scores[k], -k))
        agree &= pick(sums) == item["chosen_acc"] and pick(norms) == item["chosen_acc_norm"]
        agree &= item["chosen"] == item["chosen_acc_norm"]
    print(json.dumps({"max_diff": worst, "chosen_agree": agree, "items": len(report["items"]),
                      "choice_mass_diff": abs(mass - report["choice_mass"])}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
