// Backend through make_backend: the base-class checks (one error text for every backend),
// PackedBatch::add, prepare_weight, device selection in a CPU-only build, and the invariant the
// engine promises: a sequence gives the same bits alone or inside any batch, with any threads.
// Checks and batch invariance run on every device (CUDA skips at runtime without a device).
#include "engine/backend.h"

#include <omp.h>

#include <string>

#include "engine/make_backend.h"
#include "test_util.h"

namespace bertc {
namespace {

// gmock is not linked: a substring check that prints the whole message on failure.
::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

std::unique_ptr<Backend> cpu_backend() { return make_backend(BackendOptions{}); }

const char* device_name(Device d) { return d == Device::kCpu ? "cpu" : "cuda"; }

std::unique_ptr<Backend> backend_for(Device device) {
  BackendOptions options;
  options.device = device;
  options.max_tokens = 256;
  options.max_seqs = 16;
  return make_backend(options);
}

class BackendTest : public ::testing::TestWithParam<Device> {
 protected:
  void SetUp() override {
    if (GetParam() == Device::kCuda && !cuda_device_available()) GTEST_SKIP() << "no CUDA device";
    be_ = backend_for(GetParam());
  }
  std::unique_ptr<Backend> be_;
};

// Owns host memory and hands out a Tensor over it.
// `device` only labels the view: the check tests below fail before any data is touched.
struct HostTensor {
  std::vector<float> data;
  Shape shape;
  Device device = Device::kCpu;
  HostTensor(Shape s, uint32_t seed, Device d = Device::kCpu)
      : data(test::random_floats(s.numel(), seed)), shape(s), device(d) {}
  Tensor t() { return Tensor{data.data(), DType::kF32, shape, device}; }
};

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(PackedBatch, AddPacksSequences) {
  PackedBatch batch;
  batch.add({101, 7, 102}, {});
  batch.add({101, 102}, {0, 1});
  EXPECT_EQ(batch.input_ids, (std::vector<int32_t>{101, 7, 102, 101, 102}));
  EXPECT_EQ(batch.token_type_ids, (std::vector<int32_t>{0, 0, 0, 0, 1}));
  EXPECT_EQ(batch.position_ids, (std::vector<int32_t>{0, 1, 2, 0, 1}));
  EXPECT_EQ(batch.cu_seqlens, (std::vector<int32_t>{0, 3, 5}));
  EXPECT_EQ(batch.seq_len_max, 3);
  EXPECT_EQ(batch.num_seqs(), 2);
  EXPECT_TRUE(contains(error_of([&] { batch.add({}, {}); }), "sequence 2 is empty"));
  EXPECT_TRUE(contains(error_of([&] { batch.add({1, 2}, {0}); }), "sequence 2 has 1 token type ids for 2 tokens"));
}

TEST_P(BackendTest, ChecksRejectBadShapesWithClearMessages) {
  Backend* be = be_.get();
  const Device d = GetParam();
  HostTensor x({4, 8}, 1, d), w({5, 8}, 2, d), bias({5}, 3, d), y({4, 5}, 4, d), wrong_w({5, 7}, 5, d);
  EXPECT_EQ(error_of([&] { be->gemm(x.t(), wrong_w.t(), bias.t(), y.t()); }),
            "gemm: w has shape [5, 7], expected [5, 8]");
  EXPECT_EQ(error_of([&] { be->gemm(x.t(), w.t(), bias.t(), x.t()); }),
            "gemm: y has shape [4, 8], expected [4, 5]");
  Tensor half = y.t();
  half.dtype = DType::kF16;
  EXPECT_EQ(error_of([&] { be->gemm(x.t(), w.t(), bias.t(), half); }),
            "gemm: y has dtype f16, expected f32");
  Tensor elsewhere = y.t();
  elsewhere.device = d == Device::kCpu ? Device::kCuda : Device::kCpu;
  EXPECT_EQ(error_of([&] { be->gemm(x.t(), w.t(), bias.t(), elsewhere); }),
            std::string("gemm: y is on ") + device_name(elsewhere.device) + ", expected " +
                device_name(d));
  EXPECT_EQ(error_of([&] { be->add_bias_gelu(x.t(), bias.t()); }),
            "add_bias_gelu: bias has shape [5], expected [8]");
  HostTensor g({8}, 6, d), b8({8}, 7, d);
  EXPECT_EQ(error_of([&] { be->add_bias_residual_layer_norm(x.t(), b8.t(), x.t(), g.t(), b8.t(), 1e-12f, x.t()); }),
            "add_bias_residual_layer_norm: y must not alias x (it may alias residual)");
  EXPECT_EQ(error_of([&] { be->add_bias_residual_layer_norm(y.t(), b8.t(), x.t(), g.t(), b8.t(), 1e-12f, x.t()); }),
            "add_bias_residual_layer_norm: bias has shape [8], expected [5]");
  EXPECT_EQ(error_of([&] { be->add_bias_residual_layer_norm(x.t(), b8.t(), x.t(), g.t(), b8.t(), 0.0f, w.t()); }),
            "add_bias_residual_layer_norm: y has shape [5, 8], expected [4, 8]");
  HostTensor other({4, 8}, 8, d);
  EXPECT_EQ(error_of([&] { be->add_bias_residual_layer_norm(x.t(), b8.t(), other.t(), g.t(), b8.t(), 0.0f, other.t()); }),
            "add_bias_residual_layer_norm: layer_norm_eps must be > 0, got 0");
  EXPECT_EQ(error_of([&] { be->attention(x.t(), x.t(), x.t(), 2, x.t()); }),
            "attention: no batch (call begin_batch first)");
  HostTensor vec({3}, 9, d);
  EXPECT_EQ(error_of([&] { be->l2_normalize(vec.t()); }),
            "l2_normalize: x has shape [3], expected rank 2");
}

TEST_P(BackendTest, BatchChecks) {
  Backend* be = be_.get();
  const Device d = GetParam();
  PackedBatch empty;
  EXPECT_EQ(error_of([&] { be->begin_batch(empty); }), "begin_batch: the batch has no sequences");
  PackedBatch batch;
  batch.add({1, 2, 3}, {});
  batch.add({4, 9}, {0, 2});
  PackedBatch broken = batch;
  broken.cu_seqlens[1] = 0;
  EXPECT_EQ(error_of([&] { be->begin_batch(broken); }),
            "begin_batch: sequence 0 has 0 tokens (cu_seqlens must increase strictly)");
  be->begin_batch(batch);
  HostTensor word({9, 4}, 1, d), pos({3, 4}, 2, d), type({2, 4}, 3, d), g({4}, 4, d), b({4}, 5, d),
      out({5, 4}, 6, d);
  EXPECT_EQ(error_of([&] { be->embed(word.t(), pos.t(), type.t(), g.t(), b.t(), 1e-12f, out.t()); }),
            "embed: token id 9 at position 4 is outside the vocabulary [0, 9)");
  HostTensor word10({10, 4}, 7, d);
  EXPECT_EQ(error_of([&] { be->embed(word10.t(), pos.t(), type.t(), g.t(), b.t(), 1e-12f, out.t()); }),
            "embed: token type id 2 at position 4 is outside [0, 2)");
  HostTensor hidden({5, 4}, 8, d), pooled({3, 4}, 9, d);
  EXPECT_EQ(error_of([&] { be->pool(hidden.t(), PoolMode::kMean, pooled.t()); }),
            "pool: out has shape [3, 4], expected [2, 4]");
  HostTensor q({5, 6}, 10, d);
  EXPECT_EQ(error_of([&] { be->attention(q.t(), q.t(), q.t(), 4, q.t()); }),
            "attention: hidden size 6 is not a multiple of 4 heads");
}

TEST(Backend, BufferViewAndPrepareWeight) {
  auto be = cpu_backend();
  Buffer buf = be->allocate(100);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(buf.data()) % 64, 0u);
  EXPECT_EQ(error_of([&] { buf.view(40, DType::kF32, {4, 4}); }),
            "buffer view: f32 [4, 4] at offset 40 needs 64 bytes, but the buffer holds 100");
  // f32 is used in place (a view into the mmap on the real path).
  HostTensor w({3, 5}, 1);
  size_t offset = 0;
  Tensor same = be->prepare_weight(w.t(), nullptr, offset);
  EXPECT_EQ(same.data, w.data.data());
  EXPECT_EQ(offset, 0u);
  // f16 and bf16 are widened into the arena, 64-byte aligned; a null arena only sizes.
  const std::vector<float> values = {1.0f, -2.5f, 0.0f, 65504.0f, 1.0f / 1024.0f, -0.375f};
  std::vector<uint16_t> f16, bf16;
  for (float v : values) {
    f16.push_back(f32_to_f16(v));
    bf16.push_back(f32_to_bf16(v));
  }
  Tensor t16{f16.data(), DType::kF16, {2, 3}, Device::kCpu};
  Tensor tb16{bf16.data(), DType::kBF16, {2, 3}, Device::kCpu};
  size_t need = 0;
  be->prepare_weight(t16, nullptr, need);
  be->prepare_weight(tb16, nullptr, need);
  EXPECT_EQ(need, 64u + 24u);
  Buffer arena = be->allocate(need);
  offset = 0;
  Tensor a = be->prepare_weight(t16, &arena, offset);
  Tensor b = be->prepare_weight(tb16, &arena, offset);
  EXPECT_EQ(a.dtype, DType::kF32);
  EXPECT_TRUE(test::same_bits(a.as<float>(), values.data(), 6));
  for (int i = 0; i < 6; ++i) EXPECT_EQ(b.as<float>()[i], bf16_to_f32(bf16[i]));
  Tensor ints{f16.data(), DType::kI32, {3}, Device::kCpu};
  EXPECT_EQ(error_of([&] { be->prepare_weight(ints, nullptr, need); }),
            "prepare_weight: weight has dtype i32, expected f32, f16 or bf16");
}

TEST(MakeBackend, CpuOnlyBuild) {
  if (cuda_built()) GTEST_SKIP() << "this binary has the CUDA backend";
  EXPECT_FALSE(cuda_device_available());
  EXPECT_EQ(resolve_device("cpu"), Device::kCpu);
  EXPECT_EQ(resolve_device("auto"), Device::kCpu);
  BackendOptions options;
  options.device = Device::kCuda;
  EXPECT_EQ(error_of([&] { make_backend(options); }),
            "bertc was built without CUDA support (reconfigure with -DBERTC_CUDA=ON)");
  EXPECT_TRUE(contains(error_of([&] { resolve_device("cuda"); }), "built without CUDA support"));
  EXPECT_THROW(resolve_device("tpu"), UsageError);
  EXPECT_STREQ(cpu_backend()->name(), "cpu");
}

// Random weights and activations in `be`'s memory: one allocation per tensor, kept alive here.
struct DeviceArena {
  Backend& be;
  std::vector<Buffer> buffers;
  Tensor make(Shape shape, uint32_t seed) {
    buffers.push_back(be.allocate(static_cast<size_t>(shape.numel()) * sizeof(float)));
    Tensor t = buffers.back().view(0, DType::kF32, shape);
    if (seed) be.upload(test::random_floats(shape.numel(), seed).data(), t);
    return t;
  }
};

// A small encoder layer on the Backend, the way BertModel runs it (embed, Q/K/V gemms,
// attention, output gemm, residual LayerNorm, FFN with GELU, pooling, tanh, normalize).
// Returns the pooled [B, H] rows on the host.
std::vector<float> tiny_forward(Backend& be, const PackedBatch& batch, PoolMode mode) {
  constexpr int64_t kH = 96, kHeads = 4, kI = 200, kV = 50, kP = 40;
  const int64_t n = batch.num_tokens();
  DeviceArena a{be, {}};
  const Tensor word = a.make({kV, kH}, 1), pos = a.make({kP, kH}, 2), type = a.make({2, kH}, 3),
               g = a.make({kH}, 4), b = a.make({kH}, 5);
  const Tensor wq = a.make({kH, kH}, 6), wk = a.make({kH, kH}, 7), wv = a.make({kH, kH}, 8),
               bq = a.make({kH}, 9), bk = a.make({kH}, 10), bv = a.make({kH}, 11);
  const Tensor wo = a.make({kH, kH}, 12), bo = a.make({kH}, 13), wi = a.make({kI, kH}, 14),
               bi = a.make({kI}, 15), wf = a.make({kH, kI}, 16), bf = a.make({kH}, 17);
  const Tensor hidden = a.make({n, kH}, 0), q = a.make({n, kH}, 0), k = a.make({n, kH}, 0),
               v = a.make({n, kH}, 0), ctx = a.make({n, kH}, 0), proj = a.make({n, kH}, 0),
               inter = a.make({n, kI}, 0), pooled = a.make({batch.num_seqs(), kH}, 0);
  be.begin_batch(batch);
  be.embed(word, pos, type, g, b, 1e-12f, hidden);
  be.gemm(hidden, wq, bq, q);
  be.gemm(hidden, wk, bk, k);
  be.gemm(hidden, wv, bv, v);
  be.attention(q, k, v, kHeads, ctx);
  be.gemm(ctx, wo, Tensor{}, proj);
  be.add_bias_residual_layer_norm(proj, bo, hidden, g, b, 1e-12f, hidden);
  be.gemm(hidden, wi, Tensor{}, inter);
  be.add_bias_gelu(inter, bi);
  be.gemm(inter, wf, Tensor{}, proj);
  be.add_bias_residual_layer_norm(proj, bf, hidden, g, b, 1e-12f, hidden);
  be.pool(hidden, mode, pooled);
  be.tanh(pooled);
  be.l2_normalize(pooled);
  std::vector<float> out(static_cast<size_t>(pooled.numel()));
  be.download(pooled, out.data());
  be.synchronize();
  return out;
}

// Bitwise on the CPU (tiled GEMM, per-sequence kernels); within fp32 rounding on CUDA.
TEST_P(BackendTest, SequenceAloneEqualsInBatch) {
  const std::vector<std::vector<int32_t>> texts = {
      {1, 5, 9, 2}, {1, 2}, test::random_ints(37, 20, 0, 49), {1, 7, 7, 7, 7, 7, 7, 2},
      test::random_ints(23, 21, 0, 49)};
  PackedBatch all;
  for (const auto& t : texts) all.add(t, {});
  Backend& be = *be_;
  const int saved = omp_get_max_threads();
  for (PoolMode mode : {PoolMode::kMean, PoolMode::kCls, PoolMode::kMax}) {
    be.set_threads(2);
    const auto batched = tiny_forward(be, all, mode);
    for (int threads : {1, 2, 3}) {
      be.set_threads(threads);  // CUDA ignores it
      for (size_t s = 0; s < texts.size(); ++s) {
        PackedBatch one;
        one.add(texts[s], {});
        const auto alone = tiny_forward(be, one, mode);
        if (GetParam() == Device::kCpu) {
          EXPECT_TRUE(test::same_bits(alone.data(), batched.data() + s * 96, 96))
              << "text " << s << ", " << threads << " threads";
        } else {
          // cuBLAS may pick another GEMM kernel (tiling, split-K) for another N, reordering
          // sums: equal up to fp32 rounding of unit-norm rows, not bitwise.
          EXPECT_TRUE(test::close_all(alone.data(), batched.data() + s * 96, 96, 1e-5, 0))
              << "text " << s;
        }
      }
    }
  }
  omp_set_num_threads(saved);
}

INSTANTIATE_TEST_SUITE_P(Devices, BackendTest, ::testing::Values(Device::kCpu, Device::kCuda),
                         [](const ::testing::TestParamInfo<Device>& info) {
                           return std::string(device_name(info.param));
                         });

}  // namespace
}  // namespace bertc
