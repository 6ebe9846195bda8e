// tanh: x[i] = tanh(x[i]) in place over n elements: the activation of BERT's pooler.
#pragma once

#include <cstdint>

namespace bertc::ref {
void tanh(float* x, int64_t n);
}  // namespace bertc::ref

namespace bertc::cpu {
void tanh(float* x, int64_t n);
}  // namespace bertc::cpu
