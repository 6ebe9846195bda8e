#!/usr/bin/env python3
"""PyTorch eager on the GPU: transformers.BertModel at bert-base's shape (random weights, seed 0)
in f16 / bf16 with scaled_dot_product_attention, on the shapes `bertc bench` runs, timed with CUDA
events after warm-up (median of --reps). A ragged shape BxLO-HI draws the lengths like bertc
bench does not (any uniform draw will do) and, as eager PyTorch must, pads the batch to the
longest with an attention mask. Also measures the GPU's dense matmul rate (8192^3 in the same
dtype): the ceiling the report's "% of peak" uses. One JSON line per measurement on stdout.
Usage: bench/peers/torch_cuda_bert.py [--dtype f16,bf16] [--shapes 1x128,32x128] [--reps 30]
"""
import argparse
import json
import random
import statistics
import sys

import torch
from transformers import BertConfig, BertModel

DTYPES = {"f16": torch.float16, "bf16": torch.bfloat16}


def flops(lengths, padded_to=None):
    """2·m·n·k over every matmul of bert-base (as BertModel::flops in bertc), on the tokens run."""
    H, I, L = 768, 3072, 12
    seqs = [padded_to or n for n in lengths]
    tokens = sum(seqs)
    per_layer = 2 * tokens * H * H * 4 + 2 * tokens * H * I * 2 + sum(4 * t * t * H for t in seqs)
    return per_layer * L


def time_ms(fn, reps):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    return statistics.median(times), min(times)


def lengths_of(shape):
    b, t = shape.split("x")
    if "-" in t:
        lo, hi = map(int, t.split("-"))
        rng = random.Random(7)
        return [rng.randint(lo, hi) for _ in range(int(b))]
    return [int(t)] * int(b)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dtype", default="f16")
    ap.add_argument("--shapes", default="1x128,32x128,128x128,32x512,32x16-128")
    ap.add_argument("--reps", type=int, default=30)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("torch_cuda_bert: no CUDA device")
    torch.backends.cuda.matmul.allow_tf32 = False
    print(json.dumps({"peer": "torch", "torch": torch.__version__,
                      "gpu": torch.cuda.get_device_name(0)}), flush=True)
    for dname in args.dtype.split(","):
        dtype = DTYPES[dname]
        a = torch.randn(8192, 8192, device="cuda", dtype=dtype)
        b = torch.randn(8192, 8192, device="cuda", dtype=dtype)
        ms, _ = time_ms(lambda: a @ b, 10)
        print(json.dumps({"peer": "torch", "kind": "matmul_peak", "dtype": dname,
                          "tflops": 2 * 8192 ** 3 / (ms * 1e-3) / 1e12}), flush=True)
        del a, b
        torch.manual_seed(0)
        cfg = BertConfig()  # bert-base-uncased's shape
        try:
            cfg._attn_implementation = "sdpa"
        except AttributeError:
            pass
        model = BertModel(cfg).to(device="cuda", dtype=dtype).eval()
        attn = getattr(model.config, "_attn_implementation", "?")
        for shape in args.shapes.split(","):
            lengths = lengths_of(shape)
            width = max(lengths)
            gen = torch.Generator().manual_seed(1)
            ids = torch.randint(1000, cfg.vocab_size, (len(lengths), width), generator=gen).cuda()
            mask = torch.tensor([[1] * n + [0] * (width - n) for n in lengths], device="cuda")
            with torch.inference_mode():
                ms, best = time_ms(lambda: model(input_ids=ids, attention_mask=mask), args.reps)
            print(json.dumps({"peer": "torch", "shape": shape, "dtype": dname, "attention": attn,
                              "median_ms": ms, "min_ms": best, "seq_per_s": len(lengths) * 1e3 / ms,
                              "tok_per_s": sum(lengths) * 1e3 / ms,
                              "tflops_run": flops(lengths, width) / (ms * 1e-3) / 1e12}), flush=True)
        del model
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
