// The deterministic scatter-add of the roi family's backward (see roi_cuda.cuh): a stable
// radix sort of the E keys (ATen's), run lengths, the entries put in key order, then one
// thread per (run, 16 channels) summing its run in order. O(E) radix passes plus
// O(E * channels) multiply-adds (the arithmetic an atomic scatter does); each entry's 12
// bytes are read once per 16 channels.
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/ops/cumsum.h>
#include <ATen/ops/sort.h>
#include <ATen/ops/unique_consecutive.h>

#include "core/cuda.cuh"
#include "ops/roi/roi_cuda.cuh"

namespace tvx::ops::roi::cuda {
namespace {

namespace cu = tvx::core::cuda;

// One thread per (run, block of CB = 16 channels; 32 measured 1.9x slower on an H100): the run's entries (in sorted order, so the
// reads of a warp are adjacent) are read once per block, each adding to CB accumulators.
// Threads of a warp take neighbouring runs, mostly neighbouring pixels of one RoI: their
// gradient rows (channels last: CB values in 2 sectors) are shared through L1 and their
// stores to a channel plane coalesce.
template <typename scalar_t, typename acc_t, typename key_t, int CB>
__global__ void gather_runs(const key_t* __restrict__ keys, const std::int64_t* __restrict__ ends,
                            const std::int64_t* __restrict__ counts, const std::int64_t* __restrict__ source,
                            const acc_t* __restrict__ weight, const scalar_t* __restrict__ grad,
                            std::int64_t grad_channel_stride, acc_t* __restrict__ grad_input, std::int64_t runs,
                            std::int64_t groups, std::int64_t group_channels, std::int64_t plane, bool accumulate) {
  const std::int64_t channel_blocks = cu::ceil_div<std::int64_t>(group_channels, CB);
  for (std::int64_t i : cu::grid_stride(runs * channel_blocks)) {
    const std::int64_t u = i % runs, j0 = (i / runs) * CB;
    const std::int64_t key = keys[u];
    if (key < 0) continue;  // samples outside the image
    const int width = group_channels - j0 < CB ? static_cast<int>(group_channels - j0) : CB;
    acc_t sum[CB];
#pragma unroll
    for (int q = 0; q < CB; ++q) sum[q] = 0;
    const std::int64_t end = ends[u], begin = end - counts[u];
    for (std::int64_t e = begin; e < end; ++e) {
      const scalar_t* g = grad + source[e] + j0 * grad_channel_stride;
      const acc_t w = weight[e];
#pragma unroll
      for (int q = 0; q < CB; ++q)
        if (q < width) sum[q] += w * static_cast<acc_t>(g[q * grad_channel_stride]);
    }
    const std::int64_t ng = key / plane, pixel = key % plane;
    const std::int64_t n = ng / groups, grp = ng % groups;
    acc_t* dst = grad_input + (n * groups * group_channels + j0 * groups + grp) * plane + pixel;
#pragma unroll
    for (int q = 0; q < CB; ++q)
      if (q < width) dst[q * groups * plane] = accumulate ? dst[q * groups * plane] + sum[q] : sum[q];
  }
}

}  // namespace

void scatter_entries(const Entries& entries, const at::Tensor& grad, std::int64_t grad_channel_stride,
                     at::Tensor& grad_input, std::int64_t groups, std::int64_t group_channels, bool accumulate) {
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
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad.scalar_type(), "tvx_roi_scatter", [&] {
    using acc_t = at::opmath_type<scalar_t>;
    AT_DISPATCH_INDEX_TYPES(keys.scalar_type(), "tvx_roi_scatter_keys", [&] {
      auto run = [&](auto kernel, int cb) {
        const std::int64_t work = runs * cu::ceil_div<std::int64_t>(group_channels, cb);
        cu::launch(kernel, cu::blocks_for(work, 128), 128, 0, keys.const_data_ptr<index_t>(),
                   ends.const_data_ptr<std::int64_t>(), counts.const_data_ptr<std::int64_t>(),
                   source.const_data_ptr<std::int64_t>(), weight.const_data_ptr<acc_t>(),
                   grad.const_data_ptr<scalar_t>(), grad_channel_stride, grad_input.data_ptr<acc_t>(), runs, groups,
                   group_channels, plane, accumulate);
      };
      if (group_channels >= 16)
        run(gather_runs<scalar_t, acc_t, index_t, 16>, 16);
      else
        run(gather_runs<scalar_t, acc_t, index_t, 1>, 1);
    });
  });
}

Chunks plan_chunks(const at::Tensor& counts, std::int64_t roi_bytes, const at::Tensor& grad_input) {
  // Per entry: key, source and weight; the sort's keys, order and scratch; source and
  // weight in key order; run keys, counts and ends. Half of grad_input's size (at least 8 MiB) keeps the peak within twice an
  // atomic backward's, which needs grad_input alone.
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
