// The machine's measured fp32 FMA peak, for bertc bench's "% of peak" column: the GFLOP/s of
// independent vector FMA chains on `threads` threads (AVX-512 where the CPU has it, else AVX2+FMA,
// else 0 = unknown).
#pragma once

namespace bertc {
double measure_fma_peak_gflops(int threads);
}  // namespace bertc
