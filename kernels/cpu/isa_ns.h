// BERTC_ISA_NS: the inline namespace that headers shared by per-ISA kernel files put their inline
// code in (vec.h, gemm_tasks.h, ...). CMake defines it per file (isa_avx2 for *_avx2.cc, ...); every
// other file gets isa_baseline. Without it an inline function compiled with -mavx2 and again for
// the baseline would be one symbol, and the linker could give baseline code the AVX2 copy.
#pragma once

#ifndef BERTC_ISA_NS
#define BERTC_ISA_NS isa_baseline
#endif
