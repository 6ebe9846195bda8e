// y_b = x · w_b^T + bias_b through cuBLASLt, one launch for a batch of weights sharing x (the Q, K
// and V projections), the bias in the epilogue; plans cached per shape. Checked against
// bertc::ref::gemm in tests/kernels/gemm_cuda_test.cc (single, batched, odd and BERT shapes).
#include <algorithm>
#include <bit>
#include <memory>
#include <type_traits>

#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace bertc::cuda {
namespace {

// log2 of the largest power of two (up to 256) dividing the address: cuBLASLt's heuristic is told
// the real alignment so it never picks a kernel that needs more (its default assumes 256 bytes).
int alignment_log2(const void* p) {
  const auto a = reinterpret_cast<uintptr_t>(p);
  return a == 0 ? 8 : std::min(8, std::countr_zero(a));
}

template <typename V>
void set_layout(cublasLtMatrixLayout_t layout, cublasLtMatrixLayoutAttribute_t attr, V value) {
  CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(layout, attr, &value, sizeof(value)));
}

}  // namespace

struct GemmLt::Plan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo{};
  bool ok = false;  // the heuristic found an algorithm
  ~Plan() {
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (c) cublasLtMatrixLayoutDestroy(c);
    if (desc) cublasLtMatmulDescDestroy(desc);
  }
};

GemmLt::GemmLt(void* workspace, size_t workspace_bytes)
    : workspace_(workspace), workspace_bytes_(workspace_bytes) {
  CUBLAS_CHECK(cublasLtCreate(&handle_));
}

GemmLt::~GemmLt() {
  plans_.clear();  // descriptors before the handle
  if (handle_) cublasLtDestroy(handle_);
}

GemmLt::Plan& GemmLt::plan(const Key& key, cudaDataType_t type) {
  if (auto it = plans_.find(key); it != plans_.end()) return *it->second;
  const auto [dtype, n, m, k, batch, w_stride, bias_stride, y_stride, has_bias, tf32, align_x,
              align_w, align_y] = key;
  auto owned = std::make_unique<Plan>();
  Plan& p = *owned;
  const cublasComputeType_t compute =
      type == CUDA_R_32F && tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  CUBLAS_CHECK(cublasLtMatmulDescCreate(&p.desc, compute, CUDA_R_32F));
  // cuBLASLt is column-major, like cuBLAS: row-major y[n,m] is column-major y^T[m,n] = w · x^T,
  // so A = w (row-major [m,k] read column-major is [k,m]: op T) and B = x (column-major [k,n]:
  // op N), as in gemm.cu.
  const cublasOperation_t op_t = CUBLAS_OP_T, op_n = CUBLAS_OP_N;
  CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_TRANSA, &op_t, sizeof(op_t)));
  CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_TRANSB, &op_n, sizeof(op_n)));
  if (has_bias) {
    const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue,
                                                sizeof(epilogue)));
    if (batch > 1)
      CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_BIAS_BATCH_STRIDE,
                                                  &bias_stride, sizeof(bias_stride)));
  }
  CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p.a, type, static_cast<uint64_t>(k), static_cast<uint64_t>(m), k));
  CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p.b, type, static_cast<uint64_t>(k), static_cast<uint64_t>(n), k));
  CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p.c, type, static_cast<uint64_t>(m), static_cast<uint64_t>(n), m));
  if (batch > 1) {
    const int32_t count = batch;
    for (cublasLtMatrixLayout_t l : {p.a, p.b, p.c}) set_layout(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, count);
    set_layout(p.a, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, w_stride);
    set_layout(p.b, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, int64_t{0});  // one shared x
    set_layout(p.c, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, y_stride);
  }
  cublasLtMatmulPreference_t pref = nullptr;
  CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  auto set_pref = [&](cublasLtMatmulPreferenceAttributes_t attr, auto value) {
    CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, attr, &value, sizeof(value)));
  };
  set_pref(CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, static_cast<uint64_t>(workspace_bytes_));
  set_pref(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, uint32_t{1} << align_w);
  set_pref(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, uint32_t{1} << align_x);
  set_pref(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, uint32_t{1} << align_y);
  set_pref(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, uint32_t{1} << align_y);
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(handle_, p.desc, p.a, p.b, p.c, p.c,
                                                               pref, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  p.ok = status == CUBLAS_STATUS_SUCCESS && found > 0;
  if (p.ok) p.algo = result.algo;
  (void)dtype;  // part of the key only: the layouts carry `type`
  return *plans_.emplace(key, std::move(owned)).first->second;
}

template <typename T>
bool GemmLt::run(const T* x, const T* w, const T* bias, T* y, int64_t n, int64_t m, int64_t k,
                 int batch, int64_t w_stride, int64_t bias_stride, int64_t y_stride,
                 bool allow_tf32, cudaStream_t stream) {
  if (n == 0 || m == 0 || k == 0 || batch < 1) return false;  // gemm() covers the empty cases
  if (n > 0x7fffffff || m > 0x7fffffff || k > 0x7fffffff) return false;
  const bool tf32 = std::is_same_v<T, float> && allow_tf32;
  // The bias pointer is the epilogue's vector: 16-byte alignment is asked of it, else no plan.
  if (bias && alignment_log2(bias) < 4) return false;
  const Key key{static_cast<int>(kCudaType<T>), n, m, k, batch, w_stride, bias_stride, y_stride,
                bias != nullptr, tf32, alignment_log2(x), alignment_log2(w), alignment_log2(y)};
  Plan& p = plan(key, kCudaType<T>);
  if (!p.ok) return false;
  if (bias)
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias,
                                                sizeof(bias)));
  const float alpha = 1.0f, beta = 0.0f;
  CUBLAS_CHECK(cublasLtMatmul(handle_, p.desc, &alpha, w, p.a, x, p.b, &beta, y, p.c, y, p.c,
                              &p.algo, workspace_, workspace_bytes_, stream));
  if (sync_after_launch()) CUDA_CHECK(cudaStreamSynchronize(stream));
  return true;
}

#define BERTC_INSTANTIATE_GEMM_LT(T)                                                          \
  template bool GemmLt::run<T>(const T*, const T*, const T*, T*, int64_t, int64_t, int64_t, int, \
                               int64_t, int64_t, int64_t, bool, cudaStream_t);
BERTC_CUDA_INSTANTIATE(BERTC_INSTANTIATE_GEMM_LT)

}  // namespace bertc::cuda
