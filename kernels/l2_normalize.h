// l2_normalize: scales each row of x[rows, cols] in place to unit Euclidean norm, so cosine
// similarity becomes a dot product. A zero row stays zero (no NaN); no eps is added, so a
// nonzero row always comes out with norm 1 (to rounding).
#pragma once

#include <cstdint>

namespace bertc::ref {
void l2_normalize(float* x, int64_t rows, int64_t cols);
}  // namespace bertc::ref

namespace bertc::cpu {
void l2_normalize(float* x, int64_t rows, int64_t cols);
}  // namespace bertc::cpu
