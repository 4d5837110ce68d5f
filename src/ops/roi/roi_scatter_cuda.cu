// The deterministic scatter-add of the roi family's backward (see roi_cuda.cuh): a stable
// radix sort of E keys (ATen's), run lengths, then one thread per (run, channel) summing its
// run in order. Costs O(E log-free radix passes) plus O(E * channels) multiply-adds, the
// same arithmetic an atomic scatter does, and moves ~30 bytes per entry.
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

template <typename scalar_t, typename acc_t, typename key_t>
__global__ void gather_runs(const key_t* __restrict__ keys, const std::int64_t* __restrict__ ends,
                            const std::int64_t* __restrict__ counts, const std::int64_t* __restrict__ order,
                            const std::int64_t* __restrict__ source, const acc_t* __restrict__ weight,
                            const scalar_t* __restrict__ grad, acc_t* __restrict__ grad_input, std::int64_t runs,
                            std::int64_t groups, std::int64_t group_channels, std::int64_t plane,
                            std::int64_t grad_channel_stride, bool accumulate) {
  for (std::int64_t i : cu::grid_stride(runs * group_channels)) {
    const std::int64_t u = i % runs, j = i / runs;
    const std::int64_t key = keys[u];
    if (key < 0) continue;  // samples outside the image
    const std::int64_t end = ends[u], begin = end - counts[u];
    acc_t sum = 0;
    for (std::int64_t e = begin; e < end; ++e) {
      const std::int64_t k = order[e];
      sum += weight[k] * static_cast<acc_t>(grad[source[k] + j * grad_channel_stride]);
    }
    const std::int64_t ng = key / plane, pixel = key % plane;
    const std::int64_t n = ng / groups, g = ng % groups;
    acc_t* dst = grad_input + (n * groups * group_channels + j * groups + g) * plane + pixel;
    *dst = accumulate ? *dst + sum : sum;
  }
}

}  // namespace

void scatter_entries(const Entries& entries, const at::Tensor& grad, at::Tensor& grad_input, std::int64_t groups,
                     std::int64_t group_channels, std::int64_t grad_channel_stride, bool accumulate) {
  if (entries.key.numel() == 0 || group_channels == 0) return;
  const auto [sorted, order] = at::sort(entries.key, /*stable=*/true, /*dim=*/0, /*descending=*/false);
  const auto [keys, inverse, counts] = at::unique_consecutive(sorted, /*return_inverse=*/false,
                                                              /*return_counts=*/true, /*dim=*/std::nullopt);
  (void)inverse;
  const at::Tensor ends = at::cumsum(counts, 0);
  const std::int64_t runs = keys.numel();
  const std::int64_t plane = grad_input.size(2) * grad_input.size(3);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad.scalar_type(), "tvx_roi_scatter", [&] {
    using acc_t = at::opmath_type<scalar_t>;
    AT_DISPATCH_INDEX_TYPES(keys.scalar_type(), "tvx_roi_scatter_keys", [&] {
      cu::launch(gather_runs<scalar_t, acc_t, index_t>, cu::blocks_for(runs * group_channels, 256), 256, 0,
                 keys.const_data_ptr<index_t>(), ends.const_data_ptr<std::int64_t>(),
                 counts.const_data_ptr<std::int64_t>(), order.const_data_ptr<std::int64_t>(),
                 entries.source.const_data_ptr<std::int64_t>(), entries.weight.const_data_ptr<acc_t>(),
                 grad.const_data_ptr<scalar_t>(), grad_input.data_ptr<acc_t>(), runs, groups, group_channels, plane,
                 grad_channel_stride, accumulate);
    });
  });
}

Chunks plan_chunks(const at::Tensor& counts, std::int64_t budget) {
  const at::Tensor host = counts.to(at::kCPU, at::kLong).contiguous();
  const std::int64_t* c = host.const_data_ptr<std::int64_t>();
  Chunks chunks;
  std::int64_t total = 0, in_chunk = 0;
  chunks.first_roi.push_back(0);
  chunks.first_entry.push_back(0);
  for (std::int64_t r = 0; r < host.numel(); ++r) {
    if (in_chunk > 0 && in_chunk + c[r] > budget) {
      chunks.first_roi.push_back(r);
      chunks.first_entry.push_back(total);
      in_chunk = 0;
    }
    in_chunk += c[r];
    total += c[r];
  }
  chunks.first_roi.push_back(host.numel());
  chunks.first_entry.push_back(total);
  return chunks;
}

std::int64_t entry_budget(const at::Tensor& grad_input) {
  // key, source and weight; the sort's keys, order and scratch; run keys, counts and ends.
  constexpr std::int64_t kBytesPerEntry = 100;
  const std::int64_t bytes = std::max<std::int64_t>(grad_input.numel() * grad_input.element_size(), 8 << 20);
  return bytes / kBytesPerEntry;
}

}  // namespace tvx::ops::roi::cuda
