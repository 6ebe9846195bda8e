// The batch invariance the engine needs from a row-wise kernel (gemm, gemm_bf16): rows
// [begin, begin + count) computed alone give exactly the rows of the full n-row result, with 1, 2
// and 3 OpenMP threads.
#pragma once

#include <omp.h>

#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include "test_util.h"

namespace bertc::test {

// rows(begin, count, out) computes rows [begin, begin + count) of the [n, m] result into out.
inline void expect_rows_invariant(int64_t n, int64_t m,
                                  const std::function<void(int64_t, int64_t, float*)>& rows,
                                  const std::string& what) {
  std::vector<float> full(n * m);
  rows(0, n, full.data());
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    for (auto [begin, count] : {std::tuple<int64_t, int64_t>{0, 1}, {n - 1, 1}, {3, 1}, {1, 7},
                                {5, 16}, {2, 37}, {0, n}, {9, n - 9}}) {
      if (begin + count > n) continue;
      std::vector<float> part(count * m);
      rows(begin, count, part.data());
      EXPECT_TRUE(same_bits(part.data(), full.data() + begin * m, count * m))
          << "rows " << begin << ".." << begin + count << " of " << n << ", " << what << ", "
          << threads << " threads";
    }
  }
  omp_set_num_threads(saved);
}

}  // namespace bertc::test
