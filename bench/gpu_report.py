#!/usr/bin/env python3
"""The table of a `bench/gpu_check.sh bench` call, with the goals beside the figures.

Reads the step logs in LOGS (bertc bench --format jsonl lines, the PyTorch peer's JSON lines,
the kernel benchmarks' JSON, the --profile run) and prints: per shape bertc f16 (gemm and flash
attention), bf16, f16 without graphs, PyTorch eager f16 and the ratio, TFLOP/s and % of the
measured dense matmul rate; the goals (>= 22,000 seq/s at 32x128 f16, >= 2x PyTorch eager,
<= 0.4 ms at 1x128, ragged >= 1.6x padded) each met or missed; the --check lines; the attention
and GEMM kernel medians; the profile's top ops.
Usage: bench/gpu_report.py LOGS_DIR
"""
import json
import sys
from pathlib import Path


def jsonl(path):
    rows = []
    if path.exists():
        for line in path.read_text().splitlines():
            if line.startswith("{"):
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
    return rows


def by_shape(rows):
    return {r["shape"]: r for r in rows if "shape" in r}


def main():
    logs = Path(sys.argv[1])
    runs = {name: by_shape(jsonl(logs / f"{name}.log"))
            for name in ("model_f16", "model_f16_flash", "model_bf16", "model_f16_simt",
                         "model_f16_nographs", "model_f32")}
    torch_rows = jsonl(logs / "torch_peer.log")
    torch_f16 = {r["shape"]: r for r in torch_rows if r.get("dtype") == "f16" and "shape" in r}
    torch_bf16 = {r["shape"]: r for r in torch_rows if r.get("dtype") == "bf16" and "shape" in r}
    peak = {r["dtype"]: r["tflops"] for r in torch_rows if r.get("kind") == "matmul_peak"}
    gpu = next((r.get("gpu") for r in torch_rows if "gpu" in r), "?")
    f16 = runs["model_f16"]
    shapes = list(f16) or list(runs["model_f16_flash"])

    def ms(run, shape):
        r = runs[run].get(shape)
        return f"{r['median_ms']:.3f}" if r else "-"

    print(f"bert-base, random weights; GPU {gpu}; dense matmul measured here: "
          f"f16 {peak.get('f16', 0):.0f}, bf16 {peak.get('bf16', 0):.0f} TFLOP/s")
    head = (f"{'shape':10} {'f16 ms':>8} {'seq/s':>9} {'tok/s':>10} {'TFLOP/s':>8} {'%peak':>6} "
            f"{'flash ms':>9} {'simt ms':>8} {'nograph':>8} {'bf16 ms':>8} {'torch16':>8} {'x torch':>7} "
            f"{'torchbf':>8}")
    print(head)
    print("-" * len(head))
    best = {}  # shape -> the faster of gemm / flash f16 (ms)
    for shape in shapes:
        r = f16.get(shape) or runs["model_f16_flash"].get(shape)
        fl = runs["model_f16_flash"].get(shape)
        b = min(x["median_ms"] for x in (f16.get(shape), fl) if x)
        best[shape] = b
        tflops = r["gflops"] / 1e3 * r["median_ms"] / b
        t = torch_f16.get(shape)
        tb = torch_bf16.get(shape)
        t_ms = f"{t['median_ms']:.3f}" if t else "-"
        ratio = f"{t['median_ms'] / b:.2f}" if t else "-"
        tb_ms = f"{tb['median_ms']:.3f}" if tb else "-"
        print(f"{shape:10} {ms('model_f16', shape):>8} {r['batch'] * 1e3 / b:9.0f} "
              f"{r['tokens'] * 1e3 / b:10.0f} {tflops:8.1f} {100 * tflops / peak.get('f16', float('inf')):6.1f} "
              f"{ms('model_f16_flash', shape):>9} {ms('model_f16_simt', shape):>8} "
              f"{ms('model_f16_nographs', shape):>8} {ms('model_bf16', shape):>8} "
              f"{t_ms:>8} {ratio:>7} {tb_ms:>8}")
    print("(f16 ms: gemm attention; seq/s, tok/s, TFLOP/s, %peak and x torch: the faster of gemm and flash;"
          " %peak against the dense f16 matmul rate above)")
    print()
    print("goals")

    def goal(text, ok):
        print(f"  {'met   ' if ok else ('MISSED' if ok is not None else 'n/a   ')}  {text}")

    s32 = best.get("32x128")
    goal(f"32x128 f16 >= 22,000 seq/s: {32e3 / s32:.0f}" if s32 else "32x128 f16 >= 22,000 seq/s: -",
         (32e3 / s32 >= 22000) if s32 else None)
    s1 = best.get("1x128")
    goal(f"1x128 f16 <= 0.4 ms: {s1:.3f} ms" if s1 else "1x128 <= 0.4 ms: -", (s1 <= 0.4) if s1 else None)
    ratios = {sh: torch_f16[sh]["median_ms"] / best[sh] for sh in best if sh in torch_f16}
    if ratios:
        worst = min(ratios, key=ratios.get)
        goal(f">= 2x PyTorch eager f16 (SDPA) at every shape: worst {ratios[worst]:.2f}x at {worst}",
             min(ratios.values()) >= 2)
    else:
        goal(">= 2x PyTorch eager: no peer figures", None)
    rag = next((sh for sh in best if "-" in sh), None)
    if rag and "32x128" in best:
        goal(f"ragged {rag} >= 1.6x padded 32x128: {best['32x128'] / best[rag]:.2f}x",
             best["32x128"] / best[rag] >= 1.6)
    print()
    checks, failed, worst = 0, [], None
    for name in runs:
        path = logs / f"{name}.log"
        for line in path.read_text().splitlines() if path.exists() else []:
            if not line.startswith("#   check"):
                continue
            checks += 1
            if not line.endswith(": ok"):
                failed.append(f"{name}: {line[len('#   check '):]}")
            cos = float(line.split("min cosine ")[1].split()[0])
            if worst is None or cos < worst[0]:
                worst = (cos, name, line.split(":")[0][len("#   check "):])
    print(f"checks (each batch's mean-pooled vectors against each sequence alone): {checks} run, "
          f"{len(failed)} failed" + (f"; lowest cosine {worst[0]:.7f} ({worst[1]} {worst[2]})" if worst else ""))
    for line in failed:
        print("  FAILED " + line)
    kb = logs / "kernel_bench.json"
    if kb.exists():
        try:
            data = json.loads(kb.read_text())
        except json.JSONDecodeError:
            data = {"benchmarks": []}
        print()
        print("kernel medians (us; TFLOP/s for GEMMs and attention, GB/s for the rest)")
        for b in data.get("benchmarks", []):
            if b.get("aggregate_name") != "median":
                continue
            rate = b.get("FLOP/s")
            extra = f"{rate / 1e12:8.1f} TFLOP/s" if rate else (
                f"{b['bytes_per_second'] / 1e9:8.0f} GB/s" if "bytes_per_second" in b else "")
            print(f"  {b['run_name']:58} {b['real_time']:9.2f} {extra}")
    prof = logs / "profile.log"
    if prof.exists():
        print()
        print("profile at 32x128 f16 (gemm attention), each op synchronized")
        for line in prof.read_text().splitlines()[:1] + [l for l in prof.read_text().splitlines() if l.startswith("#")][:16]:
            print("  " + line)


if __name__ == "__main__":
    main()
