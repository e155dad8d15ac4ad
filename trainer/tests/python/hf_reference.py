"""The independent reference for the trainer's tests: Hugging Face transformers and tokenizers.

  make DIR            tiny random GPT-2, Llama and Qwen2 checkpoints (saved by transformers), a
                      byte-level BPE tokenizer trained by the tokenizers library, and for each
                      model the logits of fixed ids and the ids of fixed strings (DIR/reference.json)
  logits DIR IDS      logits of a checkpoint directory (ours, say) as JSON, by transformers
  ka DIR              the KA loss and gradients of one batch, computed directly in PyTorch
  gguf FILE IDS OUT   transformers' own GGUF loading (with the gguf package): the logits of IDS
                      (to OUT, a safetensors file) and the token ids of fixed strings (stdout)
  quants OUT          a GGUF file of small tensors in every type we dequantise, written by the
                      gguf package, and their values as gguf-py dequantises them (OUT.safetensors)
  generate DIR IDS STOPS N
                      transformers' greedy generate (KV cache on) of each prompt in IDS, one at a
                      time: at most N new tokens, ending at any id in STOPS (not included)
  chat DIR MESSAGES   transformers' apply_chat_template of each user message (a JSON list) with
                      the generation prompt, as text and as ids, from DIR's tokenizer files
"""
import json
import os
import sys

import torch

torch.manual_seed(0)
STRINGS = ["The Sun emits light.", "Where was Ada Morvik born?", "  spaces  and\ttabs", "Zoë's café, naïve ümlaut", "12345 + 678 = ?", ""]
IDS = [[1, 5, 9, 23, 42, 7, 3, 99], [4, 4, 8, 15, 16, 23, 42, 0]]


def tokenizer(path):
    from tokenizers import Tokenizer, models, pre_tokenizers, decoders, processors, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<|endoftext|>", "<|pad|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    text = ["the sun emits light and light is white", "where was ada born", "a café in the naïve city"] * 50
    tok.train_from_iterator(text, trainer)
    tok.save(path)
    return tok


def make(root):
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM
    configs = {
        "gpt2": (GPT2LMHeadModel, GPT2Config(vocab_size=300, n_embd=32, n_layer=2, n_head=4, n_positions=64,
                                              resid_pdrop=0, embd_pdrop=0, attn_pdrop=0)),
        "llama": (LlamaForCausalLM, LlamaConfig(vocab_size=300, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                                num_key_value_heads=2, intermediate_size=64, max_position_embeddings=64,
                                                rope_theta=10000.0, tie_word_embeddings=False)),
        "qwen2": (Qwen2ForCausalLM, Qwen2Config(vocab_size=300, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                                num_key_value_heads=2, intermediate_size=64, max_position_embeddings=64,
                                                tie_word_embeddings=True)),
    }
    reference = {}
    for name, (cls, config) in configs.items():
        model = cls(config).eval()
        # Non-trivial norms and biases: random ones exercise every parameter.
        with torch.no_grad():
            for pname, p in model.named_parameters():
                if "norm" in pname or "ln_" in pname or pname.endswith("bias"):
                    p.add_(torch.randn_like(p) * 0.1)
        directory = os.path.join(root, name)
        model.save_pretrained(directory, safe_serialization=True)
        tok = tokenizer(os.path.join(directory, "tokenizer.json"))
        with torch.no_grad():
            logits = model(torch.tensor(IDS)).logits
        reference[name] = {
            "ids": IDS,
            "logits": logits.tolist(),
            "strings": STRINGS,
            "encoded": [tok.encode(s).ids for s in STRINGS],
        }
    json.dump(reference, open(os.path.join(root, "reference.json"), "w"))


def logits(directory, ids):
    from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast
    model = AutoModelForCausalLM.from_pretrained(directory).eval()
    with torch.no_grad():
        out = model(torch.tensor(json.loads(ids))).logits
    tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(directory, "tokenizer.json"))
    print(json.dumps({"logits": out.tolist(), "encoded": [tok.encode(s, add_special_tokens=False) for s in STRINGS]}))


def ka(directory):
    """KL(p || q) over answer positions, as the trainer defines it, for a fixed batch in
    DIR/ka_batch.json: student ids, teacher ids, and where the answer tokens sit in each."""
    from transformers import AutoModelForCausalLM
    batch = json.load(open(os.path.join(directory, "ka_batch.json")))
    student = AutoModelForCausalLM.from_pretrained(directory)
    teacher = AutoModelForCausalLM.from_pretrained(directory).eval()
    s_ids, t_ids = torch.tensor(batch["student_ids"]), torch.tensor(batch["teacher_ids"])
    s_logits = student(s_ids).logits
    with torch.no_grad():
        t_logits = teacher(t_ids).logits
    total, count = 0.0, 0
    temperature = batch["temperature"]
    for b, (s_pos, t_pos) in enumerate(zip(batch["student_positions"], batch["teacher_positions"])):
        for sp, tp in zip(s_pos, t_pos):
            # The logits at position i predict token i + 1.
            logp = torch.log_softmax(s_logits[b, sp - 1] / temperature, -1)
            logq = torch.log_softmax(t_logits[b, tp - 1] / temperature, -1)
            if batch["direction"] == "p||q":
                kl = (logp.exp() * (logp - logq)).sum()
            else:
                kl = (logq.exp() * (logq - logp)).sum()
            total = total + kl * temperature ** 2
            count += 1
    loss = total / count
    loss.backward()
    grads = {n: p.grad.flatten()[:16].tolist() for n, p in student.named_parameters() if p.grad is not None}
    print(json.dumps({"loss": loss.item(), "grads": grads}))


GGUF_STRINGS = ["What is the capital of France?", "<|im_start|>user\nHi there<|im_end|>\n",
                "  Zoë's café  costs 12,345.67 €\n\ttabs", "Knowledge graphs connect entities."]


def gguf_logits(path, ids, out):
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM, AutoTokenizer
    directory, name = os.path.split(os.path.abspath(path))
    model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, dtype=torch.float32).eval()
    with torch.no_grad():
        logits = model(torch.tensor(json.loads(ids))).logits
    save_file({"logits": logits.contiguous()}, out)
    tok = AutoTokenizer.from_pretrained(directory, gguf_file=name)
    print(json.dumps({"strings": GGUF_STRINGS,
                      "encoded": [tok.encode(s, add_special_tokens=False) for s in GGUF_STRINGS]}))


def quants(out):
    import numpy as np
    from gguf import GGUFWriter, GGMLQuantizationType as T
    from gguf.quants import quantize, dequantize
    from safetensors.numpy import save_file
    rng = np.random.default_rng(7)
    writer = GGUFWriter(out, "llama")
    expected = {}
    for name, qtype in [("f32", T.F32), ("f16", T.F16), ("bf16", T.BF16), ("q4_0", T.Q4_0), ("q4_1", T.Q4_1), ("q8_0", T.Q8_0)]:
        data = (rng.standard_normal((6, 64)) * 0.1).astype(np.float32)
        data[0, :5] = [0.0, 1e-8, -3.5, 65000.0 if qtype == T.F16 else 2.0, 1e-5]
        raw = quantize(data, qtype)
        writer.add_tensor(name, raw, raw_dtype=qtype)
        expected[name] = dequantize(raw, qtype).astype(np.float32).reshape(data.shape)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    save_file(expected, out + ".safetensors")


def chat(directory, messages):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(directory)
    out = []
    for m in json.loads(messages):
        conversation = [{"role": "user", "content": m}]
        text = tok.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
        out.append({"text": text, "ids": tok.encode(text, add_special_tokens=False)})
    print(json.dumps(out))


def generate(directory, ids, stops, n, min_new=0):
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32).eval()
    stops = json.loads(stops)
    out = []
    for prompt in json.loads(ids):
        with torch.no_grad():
            sequence = model.generate(torch.tensor([prompt]), max_new_tokens=int(n), do_sample=False,
                                      min_new_tokens=int(min_new),
                                      use_cache=True, eos_token_id=stops or None, pad_token_id=0,
                                      attention_mask=torch.ones(1, len(prompt), dtype=torch.long))
        new = sequence[0, len(prompt):].tolist()
        for i, t in enumerate(new):
            if t in stops:
                new = new[:i]
                break
        out.append(new)
    print(json.dumps(out))


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "make":
        make(sys.argv[2])
    elif command == "logits":
        logits(sys.argv[2], sys.argv[3])
    elif command == "ka":
        ka(sys.argv[2])
    elif command == "gguf":
        gguf_logits(sys.argv[2], sys.argv[3], sys.argv[4])
    elif command == "quants":
        quants(sys.argv[2])
    elif command == "generate":
        generate(*sys.argv[2:7])
    elif command == "chat":
        chat(sys.argv[2], sys.argv[3])
