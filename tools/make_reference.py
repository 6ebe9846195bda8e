#!/usr/bin/env python3
"""Reference bundle for `bertc validate`: runs a Hugging Face BERT folder in float64 PyTorch
(transformers BertModel) and, when the folder is a sentence-transformers model, the
SentenceTransformer pipeline, and writes the layout of tests/data/models/*/ref_*:

  inputs.json               sentences, tokens, input_ids / attention_mask / token_type_ids
                            (B lists padded with 0 to max_len), lengths, max_len, set, model
  hidden_states_K.npy       [B, T', H] K = 0..L (or only the last with --last-only)
  last_hidden_state.npy     [B, T', H]
  pooler_output.npy, cls.npy, mean_pooled.npy   [B, H]
  st_embedding.npy          [B, H] SentenceTransformer.encode (its own truncation and pooling)

T' = min(max_len, --hidden-positions) keeps bundles small: positions past T' are not stored.
Every .npy is float32 (float64 result cast once). Optional tool: bertc itself never needs Python.

  python3 tools/make_reference.py --model models/all-MiniLM-L6-v2 --texts texts.txt --out DIR
"""
import argparse
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformers import AutoTokenizer, BertModel  # noqa: E402


def save(out, name, array):
    np.save(os.path.join(out, name), np.ascontiguousarray(array, dtype=np.float32))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="Hugging Face model folder")
    ap.add_argument("--texts", required=True, help="one text per line; 'a ||| b' makes a pair")
    ap.add_argument("--out", required=True, help="bundle folder (created)")
    ap.add_argument("--set", default="texts", help="name recorded in inputs.json")
    ap.add_argument("--max-length", type=int, default=512, help="truncation for the BertModel run")
    ap.add_argument("--hidden-positions", type=int, default=0, help="store only the first N positions of hidden states (0: all)")
    ap.add_argument("--last-only", action="store_true", help="store only the last layer's hidden states")
    args = ap.parse_args()

    with open(args.texts, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f if line.strip()]
    pairs = [line.split(" ||| ", 1) if " ||| " in line else None for line in lines]
    if any(pairs) and not all(pairs):
        sys.exit("make_reference: mix of pairs and single texts; use one kind per bundle")

    tok = AutoTokenizer.from_pretrained(args.model)
    kw = dict(padding=True, truncation=True, max_length=args.max_length, return_tensors="pt")
    if all(pairs):
        enc = tok([p[0] for p in pairs], [p[1] for p in pairs], **kw)
    else:
        enc = tok(lines, **kw)

    model = BertModel.from_pretrained(args.model).double().eval()
    with torch.no_grad():
        out = model(**enc, output_hidden_states=True)
    mask = enc["attention_mask"].double().unsqueeze(-1)
    last = out.last_hidden_state
    mean = (last * mask).sum(1) / mask.sum(1)

    os.makedirs(args.out, exist_ok=True)
    keep = last.shape[1] if args.hidden_positions <= 0 else min(args.hidden_positions, last.shape[1])
    layers = range(len(out.hidden_states))
    if args.last_only:
        layers = []
    for k in layers:
        save(args.out, f"hidden_states_{k}.npy", out.hidden_states[k][:, :keep].numpy())
    save(args.out, "last_hidden_state.npy", last[:, :keep].numpy())
    if out.pooler_output is not None:
        save(args.out, "pooler_output.npy", out.pooler_output.numpy())
    save(args.out, "cls.npy", last[:, 0].numpy())
    save(args.out, "mean_pooled.npy", mean.numpy())

    st_info = None
    if os.path.exists(os.path.join(args.model, "modules.json")):
        from sentence_transformers import SentenceTransformer

        st = SentenceTransformer(args.model, device="cpu").double()
        emb = st.encode([p[0] for p in pairs] if all(pairs) else lines, convert_to_numpy=False)
        save(args.out, "st_embedding.npy", torch.stack(emb).numpy())
        st_info = {"max_seq_length": st.max_seq_length}

    lengths = enc["attention_mask"].sum(1).tolist()
    inputs = {
        "set": args.set,
        "max_len": int(enc["input_ids"].shape[1]),
        "hidden_positions": keep,
        "lengths": lengths,
        "input_ids": enc["input_ids"].tolist(),
        "attention_mask": enc["attention_mask"].tolist(),
        "token_type_ids": enc["token_type_ids"].tolist(),
        "tokens": [tok.convert_ids_to_tokens(ids[:n]) for ids, n in zip(enc["input_ids"].tolist(), lengths)],
        "sentences": lines,
        "model": {"dir": os.path.basename(os.path.normpath(args.model)), "config": model.config.to_dict()},
    }
    if st_info:
        inputs["sentence_transformers"] = st_info
    with open(os.path.join(args.out, "inputs.json"), "w", encoding="utf-8") as f:
        json.dump(inputs, f, ensure_ascii=False)
    print(f"make_reference: {len(lines)} inputs, max_len {inputs['max_len']}, wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
