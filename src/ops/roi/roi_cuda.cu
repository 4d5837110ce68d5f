// The roi family's CUDA helpers (see roi_cuda.cuh): roi_align's
// channels-last sum and its tiled transposes, and the deterministic backward's chunks.
#include <ATen/Context.h>
#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContextLight.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/zeros.h>

#include <algorithm>

#include "core/cuda.cuh"
#include "ops/roi/roi.h"
#include "ops/roi/roi_cuda.cuh"

namespace tvx::ops::roi::cuda {

bool atomic_backward() { return !at::globalContext().deterministicAlgorithms(); }

namespace {

constexpr int kTile = 32, kTileRows = 8;

// out[b, j, i] = in[b, i, j] for contiguous in [B, R, C] and out [B, C, R], converted to
// out_t: 32 x 32 tiles through shared memory, so that both reads and writes are coalesced
// (ATen's copy of a permuted view reads or writes with a stride).
template <typename in_t, typename out_t>
__global__ void __launch_bounds__(kTile * kTileRows) transpose_kernel(const in_t* __restrict__ in,
                                                                      out_t* __restrict__ out, std::int64_t batches,
                                                                      std::int64_t rows, std::int64_t cols) {
  __shared__ out_t tile[kTile][kTile + 1];
  const std::int64_t tiles_r = core::cuda::ceil_div<std::int64_t>(rows, kTile);
  const std::int64_t tiles_c = core::cuda::ceil_div<std::int64_t>(cols, kTile);
  const int tx = threadIdx.x, ty = threadIdx.y;
  for (std::int64_t t = blockIdx.x; t < batches * tiles_r * tiles_c; t += gridDim.x) {
    const std::int64_t b = t / (tiles_r * tiles_c), r0 = (t / tiles_c) % tiles_r * kTile, c0 = t % tiles_c * kTile;
    const in_t* src = in + b * rows * cols;
    out_t* dst = out + b * rows * cols;
    for (int k = ty; k < kTile; k += kTileRows)
      if (r0 + k < rows && c0 + tx < cols) tile[k][tx] = static_cast<out_t>(src[(r0 + k) * cols + c0 + tx]);
    __syncthreads();
    for (int k = ty; k < kTile; k += kTileRows)
      if (c0 + k < cols && r0 + tx < rows) dst[(c0 + k) * rows + r0 + tx] = tile[tx][k];
    __syncthreads();
  }
}

// out = in transposed in its last two dimensions ([B, R, C] -> [B, C, R], both contiguous),
// in out's dtype: in's own, or float32 to float16/bfloat16.
void transpose(const at::Tensor& in, at::Tensor& out, std::int64_t batches, std::int64_t rows, std::int64_t cols) {
  if (in.numel() == 0) return;
  const std::int64_t tiles =
      batches * core::cuda::ceil_div<std::int64_t>(rows, kTile) * core::cuda::ceil_div<std::int64_t>(cols, kTile);
  const unsigned blocks = core::cuda::blocks_for(tiles * kTile * kTileRows, kTile * kTileRows);
  const dim3 threads(kTile, kTileRows);
  auto launch = [&](auto in_tag, auto out_tag) {
    using in_t = decltype(in_tag);
    using out_t = decltype(out_tag);
    core::cuda::launch(transpose_kernel<in_t, out_t>, blocks, threads, 0, in.const_data_ptr<in_t>(),
                       out.mutable_data_ptr<out_t>(), batches, rows, cols);
  };
  if (in.scalar_type() == out.scalar_type()) {
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, in.scalar_type(), "tvx_transpose",
                                    [&] { launch(scalar_t{}, scalar_t{}); });
  } else {
    TORCH_CHECK(in.scalar_type() == at::kFloat, "tvx: transpose from ", in.scalar_type(), " to ", out.scalar_type());
    AT_DISPATCH_REDUCED_FLOATING_TYPES(out.scalar_type(), "tvx_transpose", [&] { launch(float{}, scalar_t{}); });
  }
}

}  // namespace

at::Tensor channels_last_sum(const at::Tensor& grad, std::int64_t batch_size, std::int64_t channels,
                             std::int64_t height, std::int64_t width) {
  const at::ScalarType acc = grad.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  return at::zeros({batch_size, height, width, channels}, grad.options().dtype(acc));
}

at::Tensor from_channels_last(const at::Tensor& sum, at::ScalarType dtype) {
  const std::int64_t n = sum.size(0), h = sum.size(1), w = sum.size(2), c = sum.size(3);
  at::Tensor out = at::empty({n, c, h, w}, sum.options().dtype(dtype));
  transpose(sum, out, n, h * w, c);
  return out;
}

at::Tensor channels_last(const at::Tensor& grad) {
  const std::int64_t k = grad.size(0), c = grad.size(1), ph = grad.size(2), pw = grad.size(3);
  const at::Tensor permuted = grad.permute({0, 2, 3, 1});
  if (permuted.is_contiguous()) return permuted;
  const at::Tensor in = grad.contiguous();
  at::Tensor out = at::empty({k, ph, pw, c}, grad.options());
  transpose(in, out, k, c, ph * pw);
  return out;
}

int atomic_width(const at::Tensor& sum) {
  if (sum.scalar_type() != at::kFloat || at::cuda::getCurrentDeviceProperties()->major < 9) return 1;
  const std::int64_t c = sum.size(3);
  return c % 4 == 0 ? 4 : (c % 2 == 0 ? 2 : 1);
}

Chunks plan_chunks(const at::Tensor& counts, std::int64_t roi_bytes, const at::Tensor& grad_input) {
  // Per entry: key, source and weight; the sort's keys, order and scratch; source and
  // weight in key order; run keys, counts and ends. Half of grad_input's size (at least
  // 8 MiB) keeps the peak within twice an atomic backward's, which needs grad_input alone.
  constexpr std::int64_t kBytesPerEntry = 100;
  const std::int64_t budget =
      std::max<std::int64_t>(grad_input.numel() * grad_input.element_size() / 2, std::int64_t(8) << 20);
  const at::Tensor host = counts.to(at::kCPU, at::kLong).contiguous();
  const std::int64_t* c = host.const_data_ptr<std::int64_t>();
  Chunks chunks;
  std::int64_t total = 0, in_chunk = 0;
  chunks.first_roi.push_back(0);
  chunks.first_entry.push_back(0);
  for (std::int64_t r = 0; r < host.numel(); ++r) {
    // Counts are below 2^62 (kMaxGrid); their sum could still overflow.
    TORCH_CHECK(c[r] >= 0 && c[r] < (std::int64_t(1) << 56) && total < (std::int64_t(1) << 56), "tvx: a RoI "
                "backward of ", c[r], " samples after ", total, ": too many (sampling_ratio or RoIs too large)");
    const std::int64_t bytes = c[r] * kBytesPerEntry + roi_bytes;
    if (in_chunk > 0 && in_chunk + bytes > budget) {
      chunks.first_roi.push_back(r);
      chunks.first_entry.push_back(total);
      in_chunk = 0;
    }
    in_chunk += bytes;
    total += c[r];
  }
  chunks.first_roi.push_back(host.numel());
  chunks.first_entry.push_back(total);
  return chunks;
}

}  // namespace tvx::ops::roi::cuda
