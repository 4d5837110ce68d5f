// The deterministic scatter-add (see ordered_scatter.cuh): a stable radix sort of the E keys
// (ATen's), run lengths, the entries put in key order, then one warp per (run, 32 channels)
// summing its run in order. O(E) radix passes plus O(E * channels) multiply-adds (the
// arithmetic an atomic scatter does); each entry's 12 bytes are read once per 32 channels.
#include "core/ordered_scatter.cuh"

#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/ops/cumsum.h>
#include <ATen/ops/sort.h>
#include <ATen/ops/unique_consecutive.h>

#include "core/cuda.cuh"

namespace tvx::core::cuda {
namespace {

// Where (key, channel j) adds: grad_input [N, C, H, W] with C = groups * group_channels
// interleaved (channel j * groups + g), or channels-last [N, H, W, groups, group_channels].
__device__ inline std::int64_t destination(std::int64_t key, std::int64_t j, std::int64_t plane, std::int64_t groups,
                                           std::int64_t group_channels, bool channels_last) {
  const std::int64_t ng = key / plane, pixel = key % plane;
  const std::int64_t n = ng / groups, grp = ng % groups;
  return channels_last ? ((n * plane + pixel) * groups + grp) * group_channels + j
                       : (n * groups * group_channels + j * groups + grp) * plane + pixel;
}

// Few channels (roi_pool's one per entry, small inputs): one thread per (run, channel), its
// entries in order. Neighbouring threads take neighbouring runs: their stores coalesce.
template <typename scalar_t, typename acc_t, typename key_t>
__global__ void gather_runs(const key_t* __restrict__ keys, const std::int64_t* __restrict__ ends,
                            const std::int64_t* __restrict__ counts, const std::int64_t* __restrict__ source,
                            const acc_t* __restrict__ weight, const scalar_t* __restrict__ grad,
                            std::int64_t grad_channel_stride, acc_t* __restrict__ grad_input, std::int64_t runs,
                            std::int64_t groups, std::int64_t group_channels, std::int64_t plane, bool channels_last,
                            bool accumulate) {
  for (std::int64_t i : grid_stride(runs * group_channels)) {
    const std::int64_t u = i % runs, j = i / runs;
    const std::int64_t key = keys[u];
    if (key < 0) continue;  // samples outside the image
    const std::int64_t end = ends[u], begin = end - counts[u];
    acc_t sum = 0;
    for (std::int64_t e = begin; e < end; ++e)
      sum += weight[e] * static_cast<acc_t>(grad[source[e] + j * grad_channel_stride]);
    acc_t* dst = grad_input + destination(key, j, plane, groups, group_channels, channels_last);
    *dst = accumulate ? *dst + sum : sum;
  }
}

// Many channels: one warp per (run, 32 channels), lane = channel. The warp walks the run's
// entries together (runs range from 1 to hundreds of entries where RoIs cluster: a thread
// per run diverged, 12 of 32 lanes active), each entry's 32 channels one coalesced load of
// the channels-last gradient. Measured 7% faster than 16 channels per thread (H100).
template <typename scalar_t, typename acc_t, typename key_t>
__global__ void gather_runs_warp(const key_t* __restrict__ keys, const std::int64_t* __restrict__ ends,
                                 const std::int64_t* __restrict__ counts, const std::int64_t* __restrict__ source,
                                 const acc_t* __restrict__ weight, const scalar_t* __restrict__ grad,
                                 std::int64_t grad_channel_stride, acc_t* __restrict__ grad_input, std::int64_t runs,
                                 std::int64_t groups, std::int64_t group_channels, std::int64_t plane,
                                 bool channels_last, bool accumulate) {
  const int lane = threadIdx.x & 31;
  const std::int64_t warps = (std::int64_t(gridDim.x) * blockDim.x) / 32;
  const std::int64_t blocks = ceil_div<std::int64_t>(group_channels, 32);
  for (std::int64_t w = (std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / 32; w < runs * blocks; w += warps) {
    const std::int64_t u = w % runs, j = (w / runs) * 32 + lane;
    const std::int64_t key = keys[u];
    if (key < 0) continue;
    const std::int64_t end = ends[u], begin = end - counts[u];
    acc_t sum = 0;
    if (j < group_channels)
      for (std::int64_t e = begin; e < end; ++e)
        sum += weight[e] * static_cast<acc_t>(grad[source[e] + j * grad_channel_stride]);
    if (j < group_channels) {
      acc_t* dst = grad_input + destination(key, j, plane, groups, group_channels, channels_last);
      *dst = accumulate ? *dst + sum : sum;
    }
  }
}

}  // namespace

void scatter_entries(const Entries& entries, const at::Tensor& grad, std::int64_t grad_channel_stride,
                     at::Tensor& grad_input, std::int64_t groups, std::int64_t group_channels, bool accumulate,
                     bool channels_last) {
  if (entries.key.numel() == 0 || group_channels == 0) return;
  const auto [sorted, order] = at::sort(entries.key, /*stable=*/true, /*dim=*/0, /*descending=*/false);
  const auto [keys, inverse, counts] = at::unique_consecutive(sorted, /*return_inverse=*/false,
                                                              /*return_counts=*/true, /*dim=*/std::nullopt);
  (void)inverse;
  const at::Tensor ends = at::cumsum(counts, 0);
  // The entries in key order: the gather then reads them front to back.
  const at::Tensor source = entries.source.index_select(0, order);
  const at::Tensor weight = entries.weight.index_select(0, order);
  const std::int64_t runs = keys.numel();
  const std::int64_t plane = grad_input.size(2) * grad_input.size(3);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad.scalar_type(), "tvx_ordered_scatter", [&] {
    using acc_t = at::opmath_type<scalar_t>;
    AT_DISPATCH_INDEX_TYPES(keys.scalar_type(), "tvx_ordered_scatter_keys", [&] {
      if (group_channels >= 32) {
        const std::int64_t work = runs * ceil_div<std::int64_t>(group_channels, 32) * 32;
        launch(gather_runs_warp<scalar_t, acc_t, index_t>, blocks_for(work, 128), 128, 0,
                   keys.const_data_ptr<index_t>(), ends.const_data_ptr<std::int64_t>(),
                   counts.const_data_ptr<std::int64_t>(), source.const_data_ptr<std::int64_t>(),
                   weight.const_data_ptr<acc_t>(), grad.const_data_ptr<scalar_t>(), grad_channel_stride,
                   grad_input.data_ptr<acc_t>(), runs, groups, group_channels, plane, channels_last, accumulate);
        return;
      }
      const std::int64_t work = runs * group_channels;
      launch(gather_runs<scalar_t, acc_t, index_t>, blocks_for(work, 128), 128, 0,
                 keys.const_data_ptr<index_t>(), ends.const_data_ptr<std::int64_t>(),
                 counts.const_data_ptr<std::int64_t>(), source.const_data_ptr<std::int64_t>(),
                 weight.const_data_ptr<acc_t>(), grad.const_data_ptr<scalar_t>(), grad_channel_stride,
                 grad_input.data_ptr<acc_t>(), runs, groups, group_channels, plane, channels_last, accumulate);
    });
  });
}

}  // namespace tvx::core::cuda
