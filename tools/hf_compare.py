#!/usr/bin/env python3
"""Compare bertc's embeddings with Hugging Face transformers.BertModel.

Models: the tiny test models of tests/data/models (tiny-st, tiny-pt: H 128, 2 heads of 64), each
reference set (ref_*), and with --ragged a randomly initialised MiniLM-shaped model (H 384, 12
heads of 32, 6 layers; made here with transformers, seed 0, so no download and no model file
has to travel) on a ragged batch of 48 sequences of 1..300 tokens. The token ids go through
transformers.BertModel (fp32, eager attention, TF32 off; on the GPU when --device cuda) and
through `bertc embed --input-format jsonl` (ids given directly, so only the model is compared,
not the tokenizer; bertc packs and batches them itself) for each requested dtype and, on CUDA,
each attention path (BERTC_CUDA_ATTENTION); mean, cls and pooled embeddings are compared by max
abs difference and min per-row cosine. Prints one row per (model, set, dtype, attention, mode)
and exits 1 when a row is over its bound.

Bounds: f32 max abs 1e-4 and cosine >= 0.99999 (TF32 off); f16 cosine >= 0.999; bf16 cosine
>= 0.99 (8-bit mantissa activations through 2-6 layers).

Needs python3 with torch and transformers (no network: HF_HUB_OFFLINE=1 is set here).
Usage: tools/hf_compare.py --bertc build/bertc [--device cuda] [--dtype f32,f16,bf16]
       [--attention gemm,flash,simt] [--ragged]
(--device cpu --dtype f32 checks the script and the CPU engine on a machine without a GPU.)
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch  # noqa: E402
from transformers import BertConfig, BertModel  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

hf_logging.set_verbosity_error()  # the tiny-pt checkpoint's unused pretraining heads are expected

ROOT = Path(__file__).resolve().parent.parent
MODES = ("mean", "cls", "pooled")
BOUNDS = {"f32": (1e-4, 0.99999), "f16": (None, 0.999), "bf16": (None, 0.99)}


def eager(model_cls_or_cfg, **kw):
    """The plain softmax(QK^T)V attention, where transformers offers a choice."""
    try:
        return model_cls_or_cfg(attn_implementation="eager", **kw)
    except TypeError:  # transformers < 4.36 has only the eager path
        return model_cls_or_cfg(**kw)


def hf_embeddings(model, inputs, device):
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    model = model.float().eval().to(device)
    ids = torch.tensor(inputs["input_ids"], device=device)
    types = torch.tensor(inputs["token_type_ids"], device=device)
    mask = torch.tensor(inputs["attention_mask"], device=device)
    with torch.no_grad():
        out = model(input_ids=ids, token_type_ids=types, attention_mask=mask)
    hidden = out.last_hidden_state.double()
    m = mask.unsqueeze(-1).double()
    return {
        "mean": ((hidden * m).sum(1) / m.sum(1)).cpu().numpy(),
        "cls": hidden[:, 0].cpu().numpy(),
        "pooled": out.pooler_output.double().cpu().numpy(),
    }


def bertc_embeddings(bertc, model_bertc, inputs, device, dtype, attention, workdir):
    ids_file = workdir / "ids.jsonl"
    with open(ids_file, "w") as f:
        for ids, types, n in zip(inputs["input_ids"], inputs["token_type_ids"], inputs["lengths"]):
            f.write(json.dumps({"input_ids": ids[:n], "token_type_ids": types[:n]}) + "\n")
    out = workdir / f"out_{dtype}.npy"
    cmd = [bertc, "embed", "-m", str(model_bertc), "-i", str(ids_file), "--input-format", "jsonl",
           "--pool", ",".join(MODES), "--device", device, "--max-length", "512", "-o", str(out), "-q"]
    if dtype != "f32":
        cmd += ["--dtype", dtype]
    env = dict(os.environ)
    if attention:
        env["BERTC_CUDA_ATTENTION"] = attention
    subprocess.run(cmd, check=True, env=env)
    return {mode: np.load(workdir / f"out_{dtype}.{mode}.npy").astype(np.float64) for mode in MODES}


def compare(got, want):
    max_abs = float(np.abs(got - want).max())
    cos = (got * want).sum(1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1))
    return max_abs, float(cos.min())


def ragged_model(workdir):
    """A MiniLM-shaped BertModel with transformers' own random init (seed 0), saved as an HF folder
    with a placeholder vocabulary (the ids bypass the tokenizer), and a ragged batch for it."""
    torch.manual_seed(0)
    shape = dict(vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                 intermediate_size=1536, max_position_embeddings=512)
    cfg = eager(BertConfig, **shape)
    model = BertModel(cfg)
    folder = workdir / "minilm-shaped-random"
    model.save_pretrained(folder)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    words = specials + [f"w{i}" for i in range(cfg.vocab_size - len(specials))]
    (folder / "vocab.txt").write_text("\n".join(words) + "\n")
    rng = random.Random(0)
    lengths = [rng.randint(1, 300) for _ in range(48)]
    width = max(lengths)
    seqs = [[2] + [rng.randrange(1000, cfg.vocab_size) for _ in range(n - 1)] for n in lengths]
    inputs = {
        "lengths": lengths,
        "input_ids": [s + [0] * (width - len(s)) for s in seqs],
        "token_type_ids": [[0] * width for _ in seqs],
        "attention_mask": [[1] * n + [0] * (width - n) for n in lengths],
    }
    return model, folder, inputs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bertc", default=str(ROOT / "build" / "bertc"))
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--dtype", default="f32,f16,bf16")
    ap.add_argument("--attention", default="",
                    help="CUDA attention paths to run each dtype with (gemm,flash,simt); default: the backend's choice")
    ap.add_argument("--ragged", action="store_true",
                    help="also a random MiniLM-shaped model on a ragged batch of 48 sequences")
    args = ap.parse_args()
    hf_device = "cuda" if args.device == "cuda" and torch.cuda.is_available() else "cpu"
    attentions = [a for a in args.attention.split(",") if a] if args.device == "cuda" else []

    failed = False
    rows = 0
    print(f"{'model':12} {'set':14} {'dtype':5} {'attn':5} {'mode':7} {'max_abs':>10} {'min_cos':>10}  ok")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        cases = []  # (name, HF model, folder to convert, [(set name, inputs)])
        for name in ("tiny-st", "tiny-pt"):
            model_dir = ROOT / "tests" / "data" / "models" / name
            sets = [(ref.name, json.loads((ref / "inputs.json").read_text()))
                    for ref in sorted(model_dir.glob("ref_*"))]
            cases.append((name, eager(BertModel.from_pretrained, pretrained_model_name_or_path=str(model_dir / "model")),
                          model_dir / "model", sets))
        if args.ragged:
            model, folder, inputs = ragged_model(workdir)
            cases.append(("minilm-rand", model, folder, [("ragged_48", inputs)]))
        for name, hf_model, folder, sets in cases:
            model_bertc = workdir / f"{name}.bertc"
            subprocess.run([args.bertc, "convert", str(folder), "-o", str(model_bertc)],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for set_name, inputs in sets:
                want = hf_embeddings(hf_model, inputs, hf_device)
                for dtype in args.dtype.split(","):
                    # f32 has no flash kernel (it would run the gemm path again)
                    for attention in [a for a in attentions if not (dtype == "f32" and a == "flash")] or [""]:
                        got = bertc_embeddings(args.bertc, model_bertc, inputs, args.device, dtype,
                                               attention, workdir)
                        atol, min_cos = BOUNDS[dtype]
                        for mode in MODES:
                            max_abs, cos = compare(got[mode], want[mode])
                            ok = cos >= min_cos and (atol is None or max_abs <= atol)
                            failed |= not ok
                            rows += 1
                            print(f"{name:12} {set_name:14} {dtype:5} {attention or '-':5} {mode:7} "
                                  f"{max_abs:10.3g} {cos:10.7f}  {'yes' if ok else 'NO'}", flush=True)
    print(f"hf_compare: {rows} rows, {'all within bounds' if not failed else 'SOME OVER THEIR BOUND (NO)'}"
          f" (HF on {hf_device}, transformers {__import__('transformers').__version__}, torch {torch.__version__})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
