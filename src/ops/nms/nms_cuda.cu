// CUDA NMS, entirely on the device. (1) Sort scores (stable, descending). (2) Mask kernel:
// for each box and each later 64-box block, a 64-bit word of "suppresses" bits (N^2/2 IoU
// tests, N^2/16 bytes), plus per row a summary bit per non-zero word (N^2/4096 bytes).
// (3) Reduce kernel, one block: walks the 64-box blocks in score order, settles each from
// its diagonal word, then ORs into a shared-memory removed mask only the non-zero words of
// its kept boxes' rows, found through the summary. It reads N^2/4096 summary bytes plus the
// non-zero words: a single SM could not stream the whole mask fast enough. Only the count of
// kept boxes travels to the host. Above 16384 boxes, or where the mask would not fit (1 GiB,
// or the free memory), the same kernels run on chunks of the 4096 first boxes not yet
// suppressed, whose kept boxes then remove the later boxes they suppress: memory O(N) (1M
// boxes: about 60 MB), the same result.
#include "ops/nms/nms.h"

#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContextLight.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/masked_select.h>
#include <ATen/ops/zeros.h>
#include <c10/cuda/CUDACachingAllocator.h>

#include "core/cuda.cuh"

#include <cmath>
#include <cstdlib>
#include <limits>

#include "core/check.h"
#include "core/registration.h"

namespace tvx::ops {
namespace {

constexpr int kBlockBoxes = 64;  // boxes per mask word
constexpr unsigned kFullWarp = 0xffffffffu;

// The float threshold t with (x > t) == (double(x) > thr) for every float x: thr rounded
// down to a float. The CPU kernel compares in double; this keeps both devices in agreement.
template <typename T>
T device_threshold(double thr) {
  if constexpr (std::is_same_v<T, float>) {
    float t = static_cast<float>(thr);
    if (static_cast<double>(t) > thr) t = std::nextafter(t, -std::numeric_limits<float>::infinity());
    return t;
  } else {
    return thr;
  }
}

__device__ inline int boxes_in_block(std::int64_t n, std::int64_t start) {
  return n - start < kBlockBoxes ? static_cast<int>(n - start) : kBlockBoxes;
}

// grid (column block, row block), 64 threads: thread t of row block r compares box r*64+t
// with the 64 boxes of column block c >= r (only later boxes on the diagonal).
template <typename T>
__global__ void __launch_bounds__(kBlockBoxes) nms_mask_kernel(const T* __restrict__ boxes,
                                                               const std::int64_t* __restrict__ cls,
                                                               std::int64_t n, std::int64_t words, T thr,
                                                               std::uint64_t* __restrict__ mask,
                                                               std::uint64_t* __restrict__ summary,
                                                               std::int64_t summary_words) {
  const std::int64_t row_block = blockIdx.y, col_block = blockIdx.x;
  if (col_block < row_block) return;
  const std::int64_t row_start = row_block * kBlockBoxes, col_start = col_block * kBlockBoxes;
  const int rows = boxes_in_block(n, row_start), cols = boxes_in_block(n, col_start);

  __shared__ T col_boxes[kBlockBoxes * 4];
  __shared__ T col_area[kBlockBoxes];
  __shared__ std::int64_t col_cls[kBlockBoxes];
  const int t = threadIdx.x;
  if (t < cols) {
    const T* b = boxes + 4 * (col_start + t);
#pragma unroll
    for (int k = 0; k < 4; ++k) col_boxes[4 * t + k] = b[k];
    col_area[t] = detail::box_area(b);
    col_cls[t] = cls ? cls[col_start + t] : 0;
  }
  __syncthreads();
  if (t >= rows) return;

  const std::int64_t i = row_start + t;
  T box[4];
#pragma unroll
  for (int k = 0; k < 4; ++k) box[k] = boxes[4 * i + k];
  const T area = detail::box_area(box);
  const std::int64_t c = cls ? cls[i] : 0;
  std::uint64_t bits = 0;
  for (int j = (row_block == col_block) ? t + 1 : 0; j < cols; ++j)
    if (col_cls[j] == c && detail::iou_above(box, area, col_boxes + 4 * j, col_area[j], thr))
      bits |= std::uint64_t{1} << j;
  mask[i * words + col_block] = bits;
  if (bits) atomicOr(reinterpret_cast<unsigned long long*>(summary + i * summary_words + (col_block >> 6)),
                     1ull << (col_block & 63));
}

// One block. Warp 0 settles block b: a box is kept when no kept box before it removed it.
// Within the block only boxes whose diagonal row is non-zero can remove others, so the walk
// visits just those (lane l holds rows l and l + 32). Then all threads OR the non-zero
// words of the kept rows, located through the summary, into removed[] for later blocks.
constexpr int kReduceThreads = 1024;

// count_io: kept boxes before (read) and after (written); they go to out[*count_io ...].
// Chunked calls also pass the boxes already removed (`initial`, one bit per box) and get
// the chunk's kept boxes (indices into the chunk) in kept_local and their number.
__global__ void __launch_bounds__(kReduceThreads) nms_reduce_kernel(const std::uint64_t* __restrict__ mask, const std::uint64_t* __restrict__ summary,
                                  std::int64_t n, std::int64_t words, std::int64_t summary_words,
                                  const std::int64_t* __restrict__ order, std::int64_t* __restrict__ out,
                                  std::int64_t* __restrict__ count_io, const std::uint64_t* __restrict__ initial,
                                  std::int64_t* __restrict__ kept_local, std::int64_t* __restrict__ chunk_count) {
  extern __shared__ std::uint64_t removed[];
  __shared__ int kept_rows[kBlockBoxes];
  __shared__ int kept_count;
  for (std::int64_t w = threadIdx.x; w < words; w += blockDim.x) removed[w] = initial ? initial[w] : 0;
  const std::int64_t out_base = *count_io;

  const int lane = threadIdx.x & 31;
  const bool settler = threadIdx.x < 32;
  std::uint64_t diag_lo = 0, diag_hi = 0;
  auto load_diagonal = [&](std::int64_t b) {
    const std::int64_t r = b * kBlockBoxes + lane;
    diag_lo = r < n ? mask[r * words + b] : 0;
    diag_hi = r + 32 < n ? mask[(r + 32) * words + b] : 0;
  };
  if (settler) load_diagonal(0);
  std::int64_t count = 0;
  __syncthreads();

  for (std::int64_t b = 0; b < words; ++b) {
    const std::int64_t base = b * kBlockBoxes;
    if (settler) {
      const int valid = boxes_in_block(n, base);
      std::uint64_t gone = removed[b] | (valid == kBlockBoxes ? 0 : ~std::uint64_t{0} << valid);
      const std::uint64_t removers = (std::uint64_t{__ballot_sync(kFullWarp, diag_hi != 0)} << 32) |
                                     __ballot_sync(kFullWarp, diag_lo != 0);
      for (std::uint64_t todo = removers & ~gone; todo;) {
        const int k = __ffsll(static_cast<long long>(todo)) - 1;
        gone |= __shfl_sync(kFullWarp, k < 32 ? diag_lo : diag_hi, k & 31);
        todo &= ~gone & ((~std::uint64_t{0} << k) << 1);
      }
      const std::uint64_t kept = ~gone;
      for (int half = 0; half < 2; ++half) {
        const int k = lane + 32 * half;
        if ((kept >> k) & 1) {
          const int slot = __popcll(kept & ((std::uint64_t{1} << k) - 1));
          out[out_base + count + slot] = order[base + k];
          if (kept_local) kept_local[count + slot] = base + k;
          kept_rows[slot] = k;
        }
      }
      count += __popcll(kept);
      if (lane == 0) kept_count = __popcll(kept);
      if (b + 1 < words) load_diagonal(b + 1);  // independent of this step: start it early
    }
    __syncthreads();
    // (kept row, summary word) pairs over the words after b.
    const std::int64_t first = (b + 1) >> 6, spans = summary_words - first;
    const std::int64_t pairs = kept_count * spans;
    for (std::int64_t p = threadIdx.x; p < pairs; p += blockDim.x) {
      const std::int64_t row = base + kept_rows[p / spans], s = first + p % spans;
      std::uint64_t bits = summary[row * summary_words + s];
      if (s == first) bits &= ~std::uint64_t{0} << ((b + 1) & 63);
      const std::uint64_t* row_words = mask + row * words + s * 64;
      while (bits) {  // up to eight loads in flight, then their ORs
        int w[8];
        std::uint64_t v[8];
#pragma unroll
        for (int u = 0; u < 8; ++u) {
          w[u] = -1;
          if (bits) {
            w[u] = __ffsll(static_cast<long long>(bits)) - 1;
            bits &= bits - 1;
            v[u] = row_words[w[u]];
          }
        }
#pragma unroll
        for (int u = 0; u < 8; ++u)
          if (w[u] >= 0)
            atomicOr(reinterpret_cast<unsigned long long*>(removed + s * 64 + w[u]), static_cast<unsigned long long>(v[u]));
      }
    }
    __syncthreads();
  }
  __syncthreads();  // every thread has read *count_io
  if (threadIdx.x == 0) {
    *count_io = out_base + count;
    if (chunk_count) *chunk_count = count;
  }
}

// Chunked nms, the chunk's kept boxes against the boxes still live after it: one thread per
// live box (an index into the sorted boxes), the kept boxes in shared memory 256 at a time;
// the box is marked suppressed when one of them suppresses it (the same test, operands in
// the same order, as the mask kernel).
constexpr int kSuppressThreads = 256;

template <typename T>
__global__ void __launch_bounds__(kSuppressThreads) nms_suppress_kernel(
    const T* __restrict__ boxes, const std::int64_t* __restrict__ cls, const std::int64_t* __restrict__ live,
    std::int64_t count, const T* __restrict__ chunk_boxes, const std::int64_t* __restrict__ chunk_cls,
    const std::int64_t* __restrict__ kept_local, const std::int64_t* __restrict__ chunk_count, T thr,
    bool* __restrict__ suppressed) {
  __shared__ T kept_boxes[kSuppressThreads * 4];
  __shared__ T kept_area[kSuppressThreads];
  __shared__ std::int64_t kept_cls[kSuppressThreads];
  const std::int64_t kept = *chunk_count;
  const std::int64_t t = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const bool active = t < count;
  T box[4] = {}, area = 0;
  std::int64_t c = 0;
  if (active) {
    const std::int64_t j = live[t];
#pragma unroll
    for (int k = 0; k < 4; ++k) box[k] = boxes[4 * j + k];
    area = detail::box_area(box);
    c = cls ? cls[j] : 0;
  }
  bool hit = false;
  for (std::int64_t tile = 0; tile < kept; tile += kSuppressThreads) {
    const int in_tile = kept - tile < kSuppressThreads ? static_cast<int>(kept - tile) : kSuppressThreads;
    __syncthreads();
    if (threadIdx.x < in_tile) {
      const std::int64_t i = kept_local[tile + threadIdx.x];
#pragma unroll
      for (int k = 0; k < 4; ++k) kept_boxes[4 * threadIdx.x + k] = chunk_boxes[4 * i + k];
      kept_area[threadIdx.x] = detail::box_area(chunk_boxes + 4 * i);
      kept_cls[threadIdx.x] = chunk_cls ? chunk_cls[i] : 0;
    }
    __syncthreads();
    if (active && !hit)
      for (int m = 0; m < in_tile; ++m)
        if (kept_cls[m] == c && detail::iou_above(kept_boxes + 4 * m, kept_area[m], box, area, thr)) {
          hit = true;
          break;
        }
  }
  if (active) suppressed[t] = hit;
}

// The suppression mask's budget: above it, nms runs in chunks of kChunkBoxes sorted boxes
// (memory O(N), work O(N * chunk + kept * N)). TVX_NMS_MAX_MASK_BYTES overrides it (tests
// use it to run the chunked path on small inputs).
constexpr std::int64_t kChunkBoxes = 4096;

double max_mask_bytes() {
  if (const char* v = std::getenv("TVX_NMS_MAX_MASK_BYTES")) return std::atof(v);
  return double(std::int64_t(1) << 30);
}

at::Tensor nms_cuda_impl(const char* op, const at::Tensor& dets, const at::Tensor& scores,
                         const std::optional<at::Tensor>& idxs, double thr) {
  detail::check_nms_args(op, dets, scores, idxs);
  core::check_device_type(op, {"boxes", dets}, c10::DeviceType::CUDA);
  const core::cuda::DeviceGuard guard(dets);
  const std::int64_t n = dets.size(0);
  if (n == 0) return at::empty({0}, dets.options().dtype(at::kLong));

  const std::int64_t words = core::cuda::ceil_div<std::int64_t>(n, kBlockBoxes);
  const std::int64_t summary_words = core::cuda::ceil_div<std::int64_t>(words, 64);
  const auto& props = *at::cuda::getCurrentDeviceProperties();
  cudaFuncAttributes reduce_attr{};
  C10_CUDA_CHECK(cudaFuncGetAttributes(&reduce_attr, nms_reduce_kernel));
  // The reduce block keeps one bit per box in shared memory, beside its static arrays.
  const std::size_t removed_bytes = std::size_t(words) * sizeof(std::uint64_t);
  const std::size_t shared_bytes = removed_bytes + reduce_attr.sharedSizeBytes;
  // The suppression mask grows as N^2 / 8 bytes (100k boxes: 1.25 GB, 1M: 125 GB). Within
  // its budget and the device's free memory, one mask and one reduction; beyond, chunks.
  const double mask_bytes = double(n) * double(words + summary_words) * 8.0 + double(n) * 8.0 * 3;
  std::size_t free_bytes = 0, total_bytes = 0;
  C10_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  double cached_free = 0;  // free bytes PyTorch's caching allocator holds
  try {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(dets.device().index());
    const auto agg = static_cast<std::size_t>(c10::CachingDeviceAllocator::StatType::AGGREGATE);
    cached_free = double(stats.reserved_bytes[agg].current - stats.allocated_bytes[agg].current);
  } catch (const c10::Error&) {
    // A pluggable allocator (RMM, say) keeps no such statistics: count the driver's free bytes only.
  }
  const double available = double(free_bytes) + cached_free;
  // Rounds also above 4 chunks' worth: on detector output (few kept) they are faster there
  // (H100, 50k clustered boxes: 0.82 ms against the mask's 5.1 ms), and at worst (nearly all
  // kept: 50k uniform) 1.5-2.9x slower than the mask. At 10k the rounds still win on
  // detector output (0.62 against 0.75 ms) but lose 4.6x where most boxes are kept.
  const bool one_mask = n <= 4 * kChunkBoxes && mask_bytes <= std::min(available, max_mask_bytes()) &&
                        words <= 65535 && shared_bytes <= props.sharedMemPerBlockOptin;

  const at::Tensor order = detail::nms_order(scores);
  const at::Tensor sorted = dets.index_select(0, order).to(detail::nms_compute_dtype(dets.scalar_type())).contiguous();
  const at::Tensor cls = idxs ? detail::category_labels(*idxs, dets.device()).index_select(0, order).contiguous() : at::Tensor();
  const std::int64_t* cls_ptr = cls.defined() ? cls.const_data_ptr<std::int64_t>() : nullptr;
  at::Tensor out = at::empty({n}, dets.options().dtype(at::kLong));
  at::Tensor count = at::zeros({1}, dets.options().dtype(at::kLong));
  auto as_words = [](at::Tensor& t) { return reinterpret_cast<std::uint64_t*>(t.mutable_data_ptr<std::int64_t>()); };

  if (one_mask) {
    at::Tensor mask = at::empty({n * words}, dets.options().dtype(at::kLong));
    at::Tensor summary = at::zeros({n * summary_words}, dets.options().dtype(at::kLong));
    AT_DISPATCH_FLOATING_TYPES(sorted.scalar_type(), "tvx_nms_cuda", [&] {
      const dim3 grid(static_cast<unsigned>(words), static_cast<unsigned>(words));
      core::cuda::launch(nms_mask_kernel<scalar_t>, grid, kBlockBoxes, 0, sorted.const_data_ptr<scalar_t>(), cls_ptr,
                         n, words, device_threshold<scalar_t>(thr), as_words(mask), as_words(summary), summary_words);
    });
    if (shared_bytes > 48 * 1024)
      C10_CUDA_CHECK(cudaFuncSetAttribute(nms_reduce_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                          static_cast<int>(removed_bytes)));
    core::cuda::launch(nms_reduce_kernel, 1, kReduceThreads, removed_bytes, as_words(mask), as_words(summary), n,
                       words, summary_words, order.const_data_ptr<std::int64_t>(), out.mutable_data_ptr<std::int64_t>(),
                       count.mutable_data_ptr<std::int64_t>(), nullptr, nullptr, nullptr);
    return out.narrow(0, 0, count.item<std::int64_t>());
  }

  // Chunks of the live boxes: the first kChunkBoxes boxes not yet suppressed, in score order,
  // are settled among themselves (the kernels above on the chunk alone); their kept boxes
  // then test the boxes after them, and those they suppress leave the live list. The same
  // decisions as one mask (a box is kept when no kept box before it suppresses it), in O(N)
  // memory, and on detector output few rounds: the first chunk's kept boxes remove most of
  // every cluster. One device-to-host copy per round (the live count).
  constexpr std::int64_t kChunkWords = kChunkBoxes / kBlockBoxes;
  at::Tensor mask = at::empty({kChunkBoxes * kChunkWords}, dets.options().dtype(at::kLong));
  at::Tensor summary = at::empty({kChunkBoxes}, dets.options().dtype(at::kLong));
  at::Tensor kept_local = at::empty({kChunkBoxes}, dets.options().dtype(at::kLong));
  at::Tensor chunk_count = at::empty({1}, dets.options().dtype(at::kLong));
  at::Tensor live = at::arange(n, dets.options().dtype(at::kLong));
  AT_DISPATCH_FLOATING_TYPES(sorted.scalar_type(), "tvx_nms_cuda_chunked", [&] {
    const scalar_t t = device_threshold<scalar_t>(thr);
    while (live.numel() > 0) {
      const std::int64_t nc = std::min(kChunkBoxes, live.numel()), wc = core::cuda::ceil_div(nc, std::int64_t(kBlockBoxes));
      const at::Tensor head = live.narrow(0, 0, nc);
      const at::Tensor chunk = sorted.index_select(0, head);
      const at::Tensor chunk_order = order.index_select(0, head);
      const at::Tensor chunk_cls = cls.defined() ? cls.index_select(0, head) : at::Tensor();
      const std::int64_t* chunk_cls_ptr = chunk_cls.defined() ? chunk_cls.const_data_ptr<std::int64_t>() : nullptr;
      summary.zero_();
      core::cuda::launch(nms_mask_kernel<scalar_t>, dim3(unsigned(wc), unsigned(wc)), kBlockBoxes, 0,
                         chunk.const_data_ptr<scalar_t>(), chunk_cls_ptr, nc, wc, t, as_words(mask), as_words(summary),
                         std::int64_t(1));
      core::cuda::launch(nms_reduce_kernel, 1, kReduceThreads, std::size_t(wc) * sizeof(std::uint64_t),
                         as_words(mask), as_words(summary), nc, wc, std::int64_t(1),
                         chunk_order.const_data_ptr<std::int64_t>(), out.mutable_data_ptr<std::int64_t>(),
                         count.mutable_data_ptr<std::int64_t>(), nullptr, kept_local.mutable_data_ptr<std::int64_t>(),
                         chunk_count.mutable_data_ptr<std::int64_t>());
      const std::int64_t later = live.numel() - nc;
      if (later == 0) break;
      const at::Tensor rest = live.narrow(0, nc, later);
      at::Tensor suppressed = at::empty({later}, dets.options().dtype(at::kBool));
      core::cuda::launch(nms_suppress_kernel<scalar_t>, core::cuda::ceil_div(later, std::int64_t(kSuppressThreads)),
                         kSuppressThreads, 0, sorted.const_data_ptr<scalar_t>(), cls_ptr,
                         rest.const_data_ptr<std::int64_t>(), later, chunk.const_data_ptr<scalar_t>(), chunk_cls_ptr,
                         kept_local.const_data_ptr<std::int64_t>(), chunk_count.const_data_ptr<std::int64_t>(), t,
                         suppressed.mutable_data_ptr<bool>());
      live = rest.masked_select(suppressed.logical_not());  // in order; the round's synchronisation
    }
  });
  return out.narrow(0, 0, count.item<std::int64_t>());
}

at::Tensor nms_cuda(const at::Tensor& dets, const at::Tensor& scores, double thr) {
  return nms_cuda_impl("tvx.nms", dets, scores, std::nullopt, thr);
}

at::Tensor batched_nms_cuda(const at::Tensor& boxes, const at::Tensor& scores, const at::Tensor& idxs, double thr) {
  return nms_cuda_impl("tvx.batched_nms", boxes, scores, idxs, thr);
}

}  // namespace

TVX_LIBRARY_IMPL(CUDA, m) {
  m.impl("nms", &nms_cuda);
  m.impl("batched_nms", &batched_nms_cuda);
}

}  // namespace tvx::ops
