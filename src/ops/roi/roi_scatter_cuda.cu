// The roi family's backward chunks: RoI ranges whose scatter entries and temporaries stay
// within half of grad_input (see roi_cuda.cuh).
#include <algorithm>

#include "ops/roi/roi_cuda.cuh"

namespace tvx::ops::roi::cuda {

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
