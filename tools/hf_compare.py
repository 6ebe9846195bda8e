#!/usr/bin/env python3
"""Compare bertc's embeddings with Hugging Face transformers.BertModel on the tiny test models.

For each model in tests/data/models (tiny-st, tiny-pt) and each reference set (ref_*), the
token ids of inputs.json go through transformers.BertModel (fp32, CPU, eager) and through
`bertc embed --input-format jsonl` (ids given directly, so only the model is compared, not the
tokenizer) for each requested device/dtype; mean, cls and pooled embeddings are compared by max
abs difference and min per-row cosine. Prints one table row per (model, set, dtype, mode) and
exits 1 when a row is over its bound.

Bounds: f32 max abs 1e-4 and cosine >= 0.99999 (TF32 off); f16 cosine >= 0.999; bf16 cosine
>= 0.99 (8-bit mantissa activations through 2-3 layers).

Needs python3 with torch and transformers (no network: HF_HUB_OFFLINE=1 is set here).
Usage: tools/hf_compare.py --bertc build/bertc [--device cuda] [--dtype f32,f16,bf16]
(--device cpu --dtype f32 checks the script and the CPU engine on a machine without a GPU.)
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch  # noqa: E402
from transformers import BertModel  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

hf_logging.set_verbosity_error()  # the tiny-pt checkpoint's unused pretraining heads are expected

ROOT = Path(__file__).resolve().parent.parent
MODES = ("mean", "cls", "pooled")
BOUNDS = {"f32": (1e-4, 0.99999), "f16": (None, 0.999), "bf16": (None, 0.99)}


def hf_embeddings(model_dir, inputs):
    torch.backends.cuda.matmul.allow_tf32 = False
    try:  # eager attention: the plain softmax(QK^T)V, no fused SDPA kernel
        model = BertModel.from_pretrained(str(model_dir), attn_implementation="eager")
    except TypeError:  # transformers < 4.36 has only the eager path
        model = BertModel.from_pretrained(str(model_dir))
    model = model.float().eval()
    ids = torch.tensor(inputs["input_ids"])
    types = torch.tensor(inputs["token_type_ids"])
    mask = torch.tensor(inputs["attention_mask"])
    with torch.no_grad():
        out = model(input_ids=ids, token_type_ids=types, attention_mask=mask)
    hidden = out.last_hidden_state.double()
    m = mask.unsqueeze(-1).double()
    return {
        "mean": ((hidden * m).sum(1) / m.sum(1)).numpy(),
        "cls": hidden[:, 0].numpy(),
        "pooled": out.pooler_output.double().numpy(),
    }


def bertc_embeddings(bertc, model_bertc, inputs, device, dtype, workdir):
    ids_file = workdir / "ids.jsonl"
    with open(ids_file, "w") as f:
        for ids, types, n in zip(inputs["input_ids"], inputs["token_type_ids"], inputs["lengths"]):
            f.write(json.dumps({"input_ids": ids[:n], "token_type_ids": types[:n]}) + "\n")
    out = workdir / f"out_{dtype}.npy"
    cmd = [bertc, "embed", "-m", str(model_bertc), "-i", str(ids_file), "--input-format", "jsonl",
           "--pool", ",".join(MODES), "--device", device, "-o", str(out), "-q"]
    if dtype != "f32":
        cmd += ["--dtype", dtype]
    subprocess.run(cmd, check=True)
    return {mode: np.load(workdir / f"out_{dtype}.{mode}.npy").astype(np.float64) for mode in MODES}


def compare(got, want):
    max_abs = float(np.abs(got - want).max())
    cos = (got * want).sum(1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1))
    return max_abs, float(cos.min())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bertc", default=str(ROOT / "build" / "bertc"))
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--dtype", default="f32,f16,bf16")
    args = ap.parse_args()

    failed = False
    print(f"{'model':8} {'set':14} {'dtype':5} {'mode':7} {'max_abs':>10} {'min_cos':>10}  ok")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for model in ("tiny-st", "tiny-pt"):
            model_dir = ROOT / "tests" / "data" / "models" / model
            model_bertc = workdir / f"{model}.bertc"
            subprocess.run([args.bertc, "convert", str(model_dir / "model"), "-o", str(model_bertc)],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for ref in sorted(model_dir.glob("ref_*")):
                inputs = json.loads((ref / "inputs.json").read_text())
                want = hf_embeddings(model_dir / "model", inputs)
                for dtype in args.dtype.split(","):
                    got = bertc_embeddings(args.bertc, model_bertc, inputs, args.device, dtype, workdir)
                    atol, min_cos = BOUNDS[dtype]
                    for mode in MODES:
                        max_abs, cos = compare(got[mode], want[mode])
                        ok = cos >= min_cos and (atol is None or max_abs <= atol)
                        failed |= not ok
                        print(f"{model:8} {ref.name:14} {dtype:5} {mode:7} {max_abs:10.3g} "
                              f"{cos:10.7f}  {'yes' if ok else 'NO'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
