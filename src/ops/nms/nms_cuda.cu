// CUDA NMS, entirely on the device. (1) Sort scores (stable, descending). (2) Mask kernel:
// for each box and each later 64-box block, a 64-bit word of "suppresses" bits (N^2/2 IoU
// tests, N^2/16 bytes). (3) Reduce kernel, one block: walks the 64-box blocks in score order,
// settles each from its diagonal word (prefetched a few blocks ahead with asynchronous
// copies), then ORs the later words of its kept boxes' rows into a shared-memory removed mask:
// one dependent global load per block that keeps a box, none for the others. Only the count
// of kept boxes travels to the host. Above 16384 boxes, or where the mask would not fit
// (1 GiB, or the free memory), the same kernels run on chunks of the 4096 first boxes not
// yet suppressed, whose kept boxes then remove the later boxes they suppress: memory O(N)
// (1M boxes: about 60 MB), the same result.
#include "ops/nms/nms.h"

#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContextLight.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/masked_select.h>
#include <ATen/ops/zeros.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <cub/block/block_radix_sort.cuh>
#include <cuda_pipeline.h>

#include "core/cuda.cuh"

#include <cmath>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <type_traits>
#include <utility>

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
// with the 64 boxes of column block c >= r (only later boxes on the diagonal). Classes:
// batched_nms (boxes of different classes never suppress each other).
template <typename T, bool kClasses>
__global__ void __launch_bounds__(kBlockBoxes) nms_mask_kernel(const T* __restrict__ boxes,
                                                               const std::int64_t* __restrict__ cls,
                                                               std::int64_t n, std::int64_t words, T thr,
                                                               std::uint64_t* __restrict__ mask) {
  const std::int64_t row_block = blockIdx.y, col_block = blockIdx.x;
  if (col_block < row_block) return;
  const std::int64_t row_start = row_block * kBlockBoxes, col_start = col_block * kBlockBoxes;
  const int rows = boxes_in_block(n, row_start), cols = boxes_in_block(n, col_start);

  struct alignas(4 * sizeof(T)) Box {
    T v[4];
  };
  __shared__ Box col_boxes[kBlockBoxes];
  __shared__ T col_area[kBlockBoxes];
  __shared__ std::int64_t col_cls[kClasses ? kBlockBoxes : 1];
  const int t = threadIdx.x;
  if (t < cols) {
    const T* b = boxes + 4 * (col_start + t);
#pragma unroll
    for (int k = 0; k < 4; ++k) col_boxes[t].v[k] = b[k];
    col_area[t] = detail::box_area(b);
    if constexpr (kClasses) col_cls[t] = cls[col_start + t];
  }
  __syncthreads();
  if (t >= rows) return;

  const std::int64_t i = row_start + t;
  T box[4];
#pragma unroll
  for (int k = 0; k < 4; ++k) box[k] = boxes[4 * i + k];
  const T area = detail::box_area(box);
  const std::int64_t c = kClasses ? cls[i] : 0;
  // First the boxes that overlap at all (min/max only), then the IoU division for those
  // alone: a warp divides for the largest count of its lanes, not for every column.
  const int first = (row_block == col_block) ? t + 1 : 0;
  std::uint64_t candidates = 0;
  if (thr >= T(0)) {  // a disjoint pair (intersection 0: IoU 0, -0 or NaN) is below thr
#pragma unroll 8
    for (int j = first; j < cols; ++j) {
      const Box other = col_boxes[j];
      const T w = ::min(box[2], other.v[2]) - ::max(box[0], other.v[0]);
      const T h = ::min(box[3], other.v[3]) - ::max(box[1], other.v[1]);
      if (w > T(0) && h > T(0) && (!kClasses || col_cls[j] == c)) candidates |= std::uint64_t{1} << j;
    }
  } else {
    for (int j = first; j < cols; ++j)
      if (!kClasses || col_cls[j] == c) candidates |= std::uint64_t{1} << j;
  }
  std::uint64_t bits = 0;
  while (candidates) {
    const int j = __ffsll(static_cast<long long>(candidates)) - 1;
    candidates &= candidates - 1;
    if (detail::iou_above(box, area, col_boxes[j].v, col_area[j], thr)) bits |= std::uint64_t{1} << j;
  }
  mask[i * words + col_block] = bits;
}

// *word |= bits, atomically, in shared memory: as two 32-bit ORs, which the hardware has (a
// 64-bit one compiles to a compare-and-swap loop, ATOMS.CAST.SPIN.64 in the SASS).
__device__ inline void or_into(std::uint64_t* word, std::uint64_t bits) {
  unsigned* half = reinterpret_cast<unsigned*>(word);  // little-endian: low word first
  if (const unsigned lo = static_cast<unsigned>(bits)) atomicOr(half, lo);
  if (const unsigned hi = static_cast<unsigned>(bits >> 32)) atomicOr(half + 1, hi);
}

// One block. Warp 0 (the settler) settles block b: a box is kept when no kept box before it
// removed it. Within the block only boxes whose diagonal row is non-zero can remove others,
// so the walk visits just those (lane l holds rows l and l + 32). The settler also ORs word
// b + 1 of the kept rows into removed[b + 1] itself; the other warps OR their later words
// (b + 2 on) while the settler goes on to block b + 1, which needs none of them: one barrier
// a step, and the loads of a step that keeps boxes overlap the next step's settling. The
// diagonal and the word after it reach shared memory kDiagonalAhead blocks early through
// asynchronous copies, so the settler never waits for global memory. Its steps, not the other
// warps' loads, set the pace: a variant in which the settler also ORed word b + 2 and the other
// warps copied their words a step ahead (cp.async into shared memory, ORed in the next step)
// measured slower on an H200 (10k clustered boxes: 121 against 106 us).
constexpr int kReduceThreads = 1024;
constexpr int kDiagonalAhead = 4;

// count_io: kept boxes before (read) and after (written); they go to out[*count_io ...].
// kept_local ([n] scratch) gets the kept boxes' positions (indices into the sorted boxes or
// the chunk), chunk_count (if not null) their number.
__global__ void __launch_bounds__(kReduceThreads) nms_reduce_kernel(
    const std::uint64_t* __restrict__ mask, std::int64_t n, std::int64_t words, const std::int64_t* __restrict__ order,
    std::int64_t* __restrict__ out, std::int64_t* __restrict__ count_io, std::int64_t* __restrict__ kept_local,
    std::int64_t* __restrict__ chunk_count) {
  extern __shared__ std::uint64_t removed[];
  __shared__ std::uint64_t diagonal[kDiagonalAhead][kBlockBoxes];
  __shared__ std::uint64_t next_word[kDiagonalAhead][kBlockBoxes];  // word b + 1 of block b's rows
  __shared__ int kept_rows[2][kBlockBoxes];  // by step parity, as kept_count
  __shared__ int kept_count[2];
  for (std::int64_t w = threadIdx.x; w < words; w += blockDim.x) removed[w] = 0;
  const std::int64_t out_base = *count_io;

  const int lane = threadIdx.x & 31;
  const bool settler = threadIdx.x < 32;
  // The settler's lanes copy words b and b + 1 of rows lane and lane + 32 of block b into its
  // slots; a copy group per block (empty past the end), so that wait_prior(kDiagonalAhead - 1)
  // waits for block b's alone.
  auto fetch_diagonal = [&](std::int64_t b) {
    if (b < words) {
      const int s = int(b % kDiagonalAhead);
      for (int r = lane; r < kBlockBoxes; r += 32) {
        const std::int64_t row = b * kBlockBoxes + r;
        if (row < n) {
          __pipeline_memcpy_async(&diagonal[s][r], mask + row * words + b, sizeof(std::uint64_t));
          if (b + 1 < words)
            __pipeline_memcpy_async(&next_word[s][r], mask + row * words + b + 1, sizeof(std::uint64_t));
          else
            next_word[s][r] = 0;
        } else {
          diagonal[s][r] = 0;
          next_word[s][r] = 0;
        }
      }
    }
    __pipeline_commit();
  };
  if (settler)
    for (int b = 0; b < kDiagonalAhead; ++b) fetch_diagonal(b);
  std::int64_t count = 0;
  __syncthreads();

  // Step b's barrier orders: the settler's kept_rows/kept_count of block b before the other
  // warps read them; the other warps' ORs of step b - 1 (words b + 1 on) before the settler
  // reads removed[b + 1] in step b + 1. The parity buffers are rewritten two steps later,
  // after a barrier that every reader of step b has passed. removed[] words are ORed with
  // atomics: in a step the settler's word b + 1 and the other warps' words (b + 1 on, from
  // step b - 1) may meet.
  for (std::int64_t b = 0; b < words; ++b) {
    const std::int64_t base = b * kBlockBoxes;
    const int parity = int(b & 1);
    if (settler) {
      __pipeline_wait_prior(kDiagonalAhead - 1);
      __syncwarp();
      const int s = int(b % kDiagonalAhead);
      const std::uint64_t diag_lo = diagonal[s][lane], diag_hi = diagonal[s][lane + 32];
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
          const int slot_k = __popcll(kept & ((std::uint64_t{1} << k) - 1));
          kept_local[count + slot_k] = base + k;  // out[] at the end: no load on this path
          kept_rows[parity][slot_k] = k;
        }
      }
      count += __popcll(kept);
      if (lane == 0) kept_count[parity] = __popcll(kept);
      // Word b + 1 of the kept rows, from shared memory.
      const std::uint64_t next = (((kept >> lane) & 1) ? next_word[s][lane] : 0) |
                                 (((kept >> (lane + 32)) & 1) ? next_word[s][lane + 32] : 0);
      const std::uint64_t next_or = (std::uint64_t{__reduce_or_sync(kFullWarp, unsigned(next >> 32))} << 32) |
                                    __reduce_or_sync(kFullWarp, unsigned(next));
      if (lane == 0) or_into(removed + b + 1, next_or);  // 0 past the last block (fetch_diagonal): no write
      __syncwarp();  // every lane has read the slots before they are refilled
      fetch_diagonal(b + kDiagonalAhead);
    }
    __syncthreads();
    if (settler) continue;
    // The other warps: thread t takes later word first + t % spans of kept rows t / spans,
    // t / spans + rows, ...: its loads are independent (four in flight), then one OR into
    // removed[].
    const int kept_now = kept_count[parity];
    const std::int64_t first = b + 2;
    const int spans = static_cast<int>(words - first);
    if (kept_now == 0 || spans <= 0) continue;
    const int threads = int(blockDim.x) - 32, t = int(threadIdx.x) - 32;
    const int per_pass = spans < threads ? spans : threads;
    // Threads past the step's loads leave before the divisions: on detector output a step
    // keeps a box or two, which a few warps load, and the idle warps' integer work took
    // issue slots from the settler, whose steps set the kernel's pace (H200, same call:
    // 10k clustered boxes 106.0 -> 93.4 us, 4000 49.8 -> 41.7 us; uniform boxes, where
    // most are kept, 222 -> 225 us).
    if (t >= per_pass * kept_now) continue;
    const int rows = threads / per_pass, row0 = t / per_pass;
    for (std::int64_t w = first + t % per_pass; row0 < rows && w < words; w += per_pass) {
      std::uint64_t bits = 0;
      for (int k = row0; k < kept_now; k += 4 * rows) {
        std::uint64_t v[4];
#pragma unroll
        for (int u = 0; u < 4; ++u) {
          const int kk = k + u * rows;
          v[u] = kk < kept_now ? mask[(base + kept_rows[parity][kk]) * words + w] : 0;
        }
        bits |= v[0] | v[1] | v[2] | v[3];
      }
      or_into(removed + w, bits);
    }
  }
  __syncthreads();  // the last step's ORs
  __shared__ std::int64_t total;
  if (threadIdx.x == 0) total = count;
  __syncthreads();
  for (std::int64_t i = threadIdx.x; i < total; i += blockDim.x) out[out_base + i] = order[kept_local[i]];
  if (threadIdx.x == 0) {
    *count_io = out_base + total;
    if (chunk_count) *chunk_count = total;
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
        if (kept_cls[m] == c && detail::iou_above(kept_boxes + 4 * m, kept_area[m], box, area, thr, thr >= T(0))) {
          hit = true;
          break;
        }
  }
  if (active) suppressed[t] = hit;
}

// The score order (torch.sort(scores, stable=True, descending=True)'s) of up to 16384 boxes in
// one block: a stable radix sort of detail::order_key in shared memory. torch.sort's device
// sort takes five kernels and their host calls; at 10k boxes that was a sixth of nms. The
// block's size follows n (float scores; the other types take the largest): its passes cost
// in proportion to the keys it holds, padding included: with 16384 always, a sort of 1000
// boxes cost as much as one of 16384 (47 us on an H200). Now, on the H200: 1000 boxes 5.8 us,
// 4000 12.8 us, 10000 28.8 us.
struct SortShape {
  int threads, items;
  constexpr int capacity() const { return threads * items; }
};
// 1024: a detector's per-image output; 10240: an RPN's 5 levels x 2000.
constexpr SortShape kSortShapes[] = {{256, 4}, {512, 8}, {1024, 10}, {1024, 16}};

template <typename U, int Threads, int Items>
using BlockSort = cub::BlockRadixSort<U, Threads, Items, int>;

template <typename S, typename U, int Threads, int Items>
__global__ void __launch_bounds__(Threads) nms_sort_kernel(const S* __restrict__ scores, int n,
                                                           std::int64_t* __restrict__ order) {
  extern __shared__ __align__(16) unsigned char sort_storage[];
  auto& storage = *reinterpret_cast<typename BlockSort<U, Threads, Items>::TempStorage*>(sort_storage);
  U keys[Items];
  int index[Items];
#pragma unroll
  for (int k = 0; k < Items; ++k) {
    const int i = int(threadIdx.x) * Items + k;  // blocked: the sort is stable in this order
    using C = std::conditional_t<std::is_same_v<U, std::uint64_t>, double, float>;
    keys[k] = i < n ? detail::order_key<C, U>(static_cast<C>(scores[i])) : ~U(0);  // padding last
    index[k] = i;
  }
  BlockSort<U, Threads, Items>(storage).SortBlockedToStriped(keys, index);
#pragma unroll
  for (int k = 0; k < Items; ++k) {
    const int rank = k * Threads + int(threadIdx.x);
    if (rank < n) order[rank] = index[k];
  }
}

at::Tensor score_order(const at::Tensor& scores) {
  const std::int64_t n = scores.size(0);
  const auto& props = *at::cuda::getCurrentDeviceProperties();
  at::Tensor order;
  // Sorts with shape `Shape` when it holds n and fits the device; false otherwise.
  auto sort = [&](auto score_tag, auto key_tag, auto shape_tag) {
    using S = decltype(score_tag);
    using U = decltype(key_tag);
    constexpr SortShape Shape = decltype(shape_tag)::value;
    constexpr auto kernel = nms_sort_kernel<S, U, Shape.threads, Shape.items>;
    constexpr std::size_t bytes = sizeof(typename BlockSort<U, Shape.threads, Shape.items>::TempStorage);
    if (n > Shape.capacity() || bytes > props.sharedMemPerBlockOptin) return false;
    C10_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
    order = at::empty({n}, scores.options().dtype(at::kLong));
    const at::Tensor s = scores.contiguous();
    core::cuda::launch(kernel, 1, Shape.threads, bytes, s.const_data_ptr<S>(),
                       static_cast<int>(n), order.mutable_data_ptr<std::int64_t>());
    return true;
  };
  auto shape = [](auto i) { return std::integral_constant<SortShape, kSortShapes[decltype(i)::value]>{}; };
  using Last = std::integral_constant<std::size_t, std::size(kSortShapes) - 1>;
  // A switch rather than AT_DISPATCH: its lambda is no template, so `if constexpr` there
  // would not discard the other types' sorts, and each is a kernel of its own.
  switch (scores.scalar_type()) {
    case at::kFloat:
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        (sort(float{}, std::uint32_t{}, shape(std::integral_constant<std::size_t, I>{})) || ...);
      }(std::make_index_sequence<std::size(kSortShapes)>{});
      break;
    case at::kDouble: sort(double{}, std::uint64_t{}, shape(Last{})); break;
    case at::kHalf: sort(at::Half{}, std::uint32_t{}, shape(Last{})); break;
    case at::kBFloat16: sort(at::BFloat16{}, std::uint32_t{}, shape(Last{})); break;
    default: break;  // nms_order below
  }
  return order.defined() ? order : detail::nms_order(scores);
}

// The suppression mask's budget: above it, nms runs in chunks of kChunkBoxes sorted boxes
// (memory O(N), work O(N * chunk + kept * N)). TVX_NMS_MAX_MASK_BYTES overrides it (tests
// use it to run the chunked path on small inputs).
constexpr std::int64_t kChunkBoxes = 4096;

// Bytes the device can give: what PyTorch's caching allocator holds unused, and only when
// that is short of `needed`, the driver's free memory besides (cudaMemGetInfo costs tens of
// microseconds, more than a small nms).
double available_bytes(const at::Tensor& dets, double needed) {
  double cached_free = 0;
  try {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(dets.device().index());
    const auto agg = static_cast<std::size_t>(c10::CachingDeviceAllocator::StatType::AGGREGATE);
    cached_free = double(stats.reserved_bytes[agg].current - stats.allocated_bytes[agg].current);
  } catch (const c10::Error&) {
    // A pluggable allocator (RMM, say) keeps no such statistics: count the driver's free bytes only.
  }
  if (cached_free >= needed) return cached_free;
  std::size_t free_bytes = 0, total_bytes = 0;
  C10_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  return double(free_bytes) + cached_free;
}

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
  // The suppression mask grows as N^2 / 8 bytes (100k boxes: 1.25 GB, 1M: 125 GB). Within
  // its budget and the device's free memory, one mask and one reduction; beyond, chunks.
  // Rounds also above 4 chunks' worth: on detector output (few kept) they are faster there
  // (H100, 50k clustered boxes: 0.82 ms against the mask's 5.1 ms), and at worst (nearly all
  // kept: 50k uniform) 1.5-2.9x slower than the mask. (The reduce block's removed mask, one
  // bit per box, is then at most 2 KiB of shared memory.)
  const double mask_bytes = double(n) * double(words) * 8.0 + double(n) * 8.0 * 3;
  const bool one_mask = n <= 4 * kChunkBoxes && mask_bytes <= std::min(available_bytes(dets, mask_bytes), max_mask_bytes());

  const at::Tensor order = score_order(scores);
  const at::Tensor sorted = dets.index_select(0, order).to(detail::nms_compute_dtype(dets.scalar_type())).contiguous();
  const at::Tensor cls = idxs ? detail::category_labels(*idxs, dets.device()).index_select(0, order).contiguous() : at::Tensor();
  const std::int64_t* cls_ptr = cls.defined() ? cls.const_data_ptr<std::int64_t>() : nullptr;
  at::Tensor out = at::empty({n}, dets.options().dtype(at::kLong));
  at::Tensor count = at::zeros({1}, dets.options().dtype(at::kLong));
  auto as_words = [](at::Tensor& t) { return reinterpret_cast<std::uint64_t*>(t.mutable_data_ptr<std::int64_t>()); };

  if (one_mask) {
    at::Tensor mask = at::empty({n * words}, dets.options().dtype(at::kLong));
    AT_DISPATCH_FLOATING_TYPES(sorted.scalar_type(), "tvx_nms_cuda", [&] {
      const dim3 grid(static_cast<unsigned>(words), static_cast<unsigned>(words));
      core::cuda::launch(cls_ptr ? nms_mask_kernel<scalar_t, true> : nms_mask_kernel<scalar_t, false>, grid,
                         kBlockBoxes, 0, sorted.const_data_ptr<scalar_t>(), cls_ptr, n, words,
                         device_threshold<scalar_t>(thr), as_words(mask));
    });
    at::Tensor kept = at::empty({n}, dets.options().dtype(at::kLong));
    core::cuda::launch(nms_reduce_kernel, 1, kReduceThreads, std::size_t(words) * sizeof(std::uint64_t),
                       as_words(mask), n, words, order.const_data_ptr<std::int64_t>(),
                       out.mutable_data_ptr<std::int64_t>(), count.mutable_data_ptr<std::int64_t>(),
                       kept.mutable_data_ptr<std::int64_t>(), nullptr);
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
      core::cuda::launch(chunk_cls_ptr ? nms_mask_kernel<scalar_t, true> : nms_mask_kernel<scalar_t, false>,
                         dim3(unsigned(wc), unsigned(wc)), kBlockBoxes, 0,
                         chunk.const_data_ptr<scalar_t>(), chunk_cls_ptr, nc, wc, t, as_words(mask));
      core::cuda::launch(nms_reduce_kernel, 1, kReduceThreads, std::size_t(wc) * sizeof(std::uint64_t),
                         as_words(mask), nc, wc, chunk_order.const_data_ptr<std::int64_t>(),
                         out.mutable_data_ptr<std::int64_t>(), count.mutable_data_ptr<std::int64_t>(),
                         kept_local.mutable_data_ptr<std::int64_t>(), chunk_count.mutable_data_ptr<std::int64_t>());
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
