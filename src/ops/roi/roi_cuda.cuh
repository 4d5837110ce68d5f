// The roi family's CUDA helpers, shared by its four ops: the batch-index assertion, the forward kernels' work items, and the backward's two paths. By
// default a backward adds with atomics: roi_align into a float32 (float64) sum with channels
// last, so that a warp's atomics are contiguous (32 to 128 channels of one pixel), which a
// tiled transpose then lays out as NCHW; the others into NCHW by bands of rows (see
// band_backward). Under torch.use_deterministic_algorithms(True) it goes through core's deterministic
// scatter (core/ordered_scatter.cuh) instead: each op lists its contributions as entries
// (samples x 4 corners), taken in chunks of RoIs so that the temporaries stay below half the
// size of grad_input, not N*C*H*W. Include only from the family's .cu files.
#pragma once

#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <c10/macros/Macros.h>

#include "core/cuda.cuh"
#include "core/ordered_scatter.cuh"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

namespace tvx::ops::roi::cuda {

/// Whether a RoI's batch index lies in [0, n) after truncation (NaN does not). A kernel
/// asserts it on the device, as ATen's indexing kernels assert their indices: no host
/// synchronisation, so the ops stay asynchronous and CUDA-graph capturable; a bad index
/// ends the kernel with a device-side assert that names the rule. (The CPU kernels check
/// on the host, with the range in the message.)
template <typename T>
__device__ inline bool valid_batch(const T* roi, std::int64_t n) {
  const T b = roi[0];
  const bool valid = b > T(-1) && b < static_cast<T>(n);
  CUDA_KERNEL_ASSERT_MSG(valid, "tvx roi ops: rois[:, 0] must be batch indices in [0, N)");
  return valid;
}

/// Whether the backward takes atomics: unless torch.use_deterministic_algorithms(True).
bool atomic_backward();

/// roi_align's default backward sum: zeros [N, H, W, C] in float32 (float64 for double grads).
at::Tensor channels_last_sum(const at::Tensor& grad, std::int64_t batch_size, std::int64_t channels,
                             std::int64_t height, std::int64_t width);

/// The sum as the backward's contiguous [N, C, H, W] result in `dtype`: one tiled transpose.
at::Tensor from_channels_last(const at::Tensor& sum, at::ScalarType dtype);

/// [K, C, PH, PW] as a contiguous [K, PH, PW, C] (no copy when it is one already).
at::Tensor channels_last(const at::Tensor& grad);

/// Channels per thread of roi_align's atomics: 4 or 2 (sm_90's vector atomics, float32 sums
/// with C a multiple) or 1.
int atomic_width(const at::Tensor& sum);

/// sum[0 .. V) += v[0 .. V), V = 1, 2 or 4 consecutive floats (aligned to V): one vector
/// atomic on sm_90 and later.
template <int V, typename T>
__device__ inline void atomic_add(T* sum, const T (&v)[V]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  constexpr bool kVector = std::is_same_v<T, float> && (V == 2 || V == 4);
#else
  constexpr bool kVector = false;
#endif
  if constexpr (kVector && V == 4) {
    atomicAdd(reinterpret_cast<float4*>(sum), make_float4(v[0], v[1], v[2], v[3]));
  } else if constexpr (kVector && V == 2) {
    atomicAdd(reinterpret_cast<float2*>(sum), make_float2(v[0], v[1]));
  } else {
#pragma unroll
    for (int q = 0; q < V; ++q) atomicAdd(sum + q, v[q]);
  }
}

/// Calls launch(std::integral_constant<int, V>) with V = atomic_width(sum).
template <typename Launch>
void for_atomic_width(const at::Tensor& sum, Launch&& launch) {
  switch (atomic_width(sum)) {
    case 4: return launch(std::integral_constant<int, 4>{});
    case 2: return launch(std::integral_constant<int, 2>{});
    default: return launch(std::integral_constant<int, 1>{});
  }
}

/// What a forward kernel knows of its tensors.
struct Shape {
  std::int64_t n, h, w, sn, sc, sh, sw;  // input sizes and strides
  std::int64_t k, c_out, ph, pw;        // output
};

/// Work item i = (RoI r, bin (ph, pw), channels c0 .. c0 + CPT - 1): the geometry is computed
/// once for CPT channels, whose loads are independent (more in flight). roi_align takes 4
/// (measured 1.4x faster than 1 on an H100), roi_pool on NCHW input 4 (roi_pool_cuda.cu);
/// the ps ops, whose channels lie a bin apart, and roi_pool on channels_last input take 1.
/// Neighbouring items: channels (ChannelsLast), else RoIs of one channel and bin (RoisInner:
/// ps_roi_align's forward, whose bins all take the same samples), else the bins of one RoI
/// (roi_pool's and ps_roi_pool's, whose loops run as long as their bins are large).
template <int CPT, typename index_t, bool RoisInner, bool ChannelsLast>
__device__ inline void work_item(index_t i, const Shape& s, index_t& r, index_t& c0, index_t& ph, index_t& pw) {
  const index_t blocks = (s.c_out + CPT - 1) / CPT;
  index_t cb;
  if constexpr (ChannelsLast) {  // neighbouring threads: neighbouring channels
    cb = i % blocks;
    const index_t t = i / blocks;
    pw = t % s.pw;
    ph = (t / s.pw) % s.ph;
    r = t / s.pw / s.ph;
  } else if constexpr (RoisInner) {  // each input channel for all RoIs, then the next channels
    r = i % s.k;
    const index_t t = i / s.k;
    pw = t % s.pw;
    ph = (t / s.pw) % s.ph;
    cb = t / s.pw / s.ph;
  } else {  // channels for all RoIs, then the next: the planes they sample stay in L2
    pw = i % s.pw;
    const index_t t = i / s.pw;
    ph = t % s.ph;
    r = (t / s.ph) % s.k;
    cb = t / s.ph / s.k;
  }
  c0 = cb * CPT;
}

/// Calls launch(ps, channels_last, index) with ps and channels_last as std::bool_constant and
/// index as a value of the index type (int32 when `small`): the forward kernels' variants.
template <typename Launch>
void for_layout(bool ps, bool channels_last, bool small, Launch&& launch) {
  auto by_index = [&](auto p, auto cl) { small ? launch(p, cl, std::int32_t{}) : launch(p, cl, std::int64_t{}); };
  auto by_layout = [&](auto p) { channels_last ? by_index(p, std::true_type{}) : by_index(p, std::false_type{}); };
  ps ? by_layout(std::true_type{}) : by_layout(std::false_type{});
}

/// The default backward of roi_pool and ps_roi_align (and ps_roi_pool's rows wider than a
/// band), by bands: one block per band of rows (kBandBytes of sums) of one input plane (batch,
/// channel) zeroes the band's sum and adds the band's contributions with atomics; a thread's
/// loop over the RoIs skips those of other batches or rows. ps_roi_align's blocks walk lists
/// of each band's RoIs (band_rois; on the bench's clustered RoIs about a fifth of them:
/// its kernel 220 -> 166 us on an H200). roi_pool's read all K RoIs' argmax spans (a RoI's
/// argmax may point anywhere): N * C * bands * K checks in all, which for large batches
/// (N * bands well above PH * PW) outgrows the K * C * PH * PW work items. No zeroing pass
/// over the whole gradient, and each band's atomics run together on a small region. Two
/// places for the sum (Shared), measured on an H100 on the bench case (bench/RESULTS.md),
/// kernel times:
/// - in shared memory, written to grad_input at the end: roi_pool, 151 us (torchvision's
///   kernel 324 us, after its zeroing pass). Float atomics there are compare-and-swap loops
///   on sm_90, but a warp's loads come in batches, so few wait on each other;
/// - in grad_input itself, zeroed just before the atomics (native float adds in L2, which
///   then hold the band's lines): ps_roi_align, 227 us against 253 us with shared sums (a
///   thread per RoI, each compare-and-swap loop a round trip; both before its lists), and
///   roi_pool's rows wider than a band. Bound by L2 throughput (ncu: 81-90%).
/// ps_roi_pool has its own band kernel (ps_pool_band_corners: a bin's four corners, not its
/// pixels).
constexpr std::int64_t kBandBytes = 48 * 1024;
constexpr int kBandThreads = 256;

struct Bands {
  std::int64_t rows = 0, count = 0;  // rows per band (at least one, unless H = 0), bands per plane
};

/// Bands of at most kBandBytes of `bytes_per_pixel` each and at most `max_rows` rows.
inline Bands bands_for(std::int64_t height, std::int64_t width, std::int64_t bytes_per_pixel,
                       std::int64_t max_rows = std::numeric_limits<std::int64_t>::max()) {
  const std::int64_t fit = std::max<std::int64_t>(1, kBandBytes / std::max<std::int64_t>(1, width * bytes_per_pixel));
  const std::int64_t most = std::min(fit, std::max<std::int64_t>(1, max_rows));
  const std::int64_t count = (height + most - 1) / most;
  return {count > 0 ? (height + count - 1) / count : 0, count};
}

/// One block's band: plane (batch, channel) of [N, C, H, W], rows [y0, y1), the plane's
/// band number `index`; the sum's element (y, x) is sum[(y - y0) * W + x].
struct Band {
  std::int64_t batch, channel, y0, y1, index;
};

/// Band `block` of [0, N * C * bands): a plane's bands are consecutive.
__device__ inline Band band_of(std::int64_t block, const Shape& s, std::int64_t channels, const Bands& bands) {
  const std::int64_t plane = block / bands.count, index = block % bands.count, y0 = index * bands.rows;
  return {plane / channels, plane % channels, y0, y0 + bands.rows < s.h ? y0 + bands.rows : s.h, index};
}

/// The band's first element in grad_input ([N, channels, H, W], contiguous).
template <typename acc_t>
__device__ inline acc_t* band_start(acc_t* grad_input, const Band& band, std::int64_t channels, const Shape& s) {
  return grad_input + ((band.batch * channels + band.channel) * s.h + band.y0) * s.w;
}

/// Blocks of a grid-strided band kernel: one a band, at most 2^30.
inline unsigned band_grid(std::int64_t blocks) {
  return static_cast<unsigned>(std::min<std::int64_t>(blocks, std::int64_t(1) << 30));
}

/// The RoIs a band's block walks: by default all K; with lists (band_rois), band j's are
/// list[j * K + e] for e < counts[j], in no particular order (their contributions add with
/// atomics), the RoIs whose rows meet the band.
struct RoiList {
  const std::int32_t* counts = nullptr;
  const std::int32_t* list = nullptr;
  std::int64_t k = 0;
  __device__ std::int64_t size(const Band& band) const { return list ? counts[band.index] : k; }
  __device__ std::int64_t roi(const Band& band, std::int64_t e) const { return list ? list[band.index * k + e] : e; }
};

/// Rows [lo, hi) of a map (hi <= lo: none).
struct RowSpan {
  std::int64_t lo, hi;
};

/// RowsOf(roi) gives the RowSpan of the map that a RoI's contributions may reach; each band
/// it meets gets the RoI. Asserts the batch indices.
template <typename T, typename RowsOf>
__global__ void list_band_rois(const T* __restrict__ rois, std::int64_t k, std::int64_t n, Bands bands, RowsOf rows_of,
                               std::int32_t* __restrict__ counts, std::int32_t* __restrict__ list) {
  for (std::int64_t r : core::cuda::grid_stride(k)) {
    if (!valid_batch(rois + 5 * r, n)) continue;
    const auto [lo, hi] = rows_of(rois + 5 * r);
    const std::int64_t first = lo > 0 ? lo : 0, last = hi < bands.rows * bands.count ? hi : bands.rows * bands.count;
    if (last <= first) continue;
    for (std::int64_t j = first / bands.rows; j <= (last - 1) / bands.rows; ++j)
      list[j * k + atomicAdd(counts + j, 1)] = static_cast<std::int32_t>(r);
  }
}

/// The band lists' storage (K * bands int32 and the counts; undefined: no lists).
struct BandRois {
  at::Tensor counts, list;
  std::int64_t k = 0;
  RoiList view() const {
    if (!list.defined()) return {nullptr, nullptr, k};
    return {counts.const_data_ptr<std::int32_t>(), list.const_data_ptr<std::int32_t>(), k};
  }
};

/// Lists of RoIs by band (list_band_rois), so that each band's block walks only the RoIs
/// that meet it (on the bench's clustered RoIs about a fifth of them). None (every block walks
/// all K) when the lists would take more than a quarter of `grad_bytes`, the gradient's size,
/// or K passes int32.
template <typename T, typename RowsOf>
BandRois band_rois(const at::Tensor& rois, const Shape& s, const Bands& bands, const RowsOf& rows_of,
                   std::int64_t grad_bytes) {
  BandRois out;
  out.k = s.k;
  if (s.k == 0 || bands.count == 0 || s.k >= std::numeric_limits<std::int32_t>::max() ||
      s.k * bands.count * 4 > grad_bytes / 4)
    return out;
  // One allocation for the counts and the lists, and a memset for the counts instead of an
  // at::zeros op: host time counts in a training step, whose backward waits on the host.
  const at::Tensor storage = at::empty({bands.count * (s.k + 1)}, rois.options().dtype(at::kInt));
  out.counts = storage.narrow(0, 0, bands.count);
  out.list = storage.narrow(0, bands.count, bands.count * s.k);
  C10_CUDA_CHECK(cudaMemsetAsync(out.counts.mutable_data_ptr<std::int32_t>(), 0, bands.count * sizeof(std::int32_t),
                                 core::cuda::stream()));
  core::cuda::launch(list_band_rois<T, RowsOf>, core::cuda::blocks_for(s.k, 256), 256, 0, rois.const_data_ptr<T>(),
                     s.k, s.n, bands, rows_of, out.counts.mutable_data_ptr<std::int32_t>(),
                     out.list.mutable_data_ptr<std::int32_t>());
  return out;
}

/// Whether RoI r belongs to `band`'s batch; asserts its batch index (valid_batch) first. (With
/// band lists, list_band_rois has asserted every RoI's already.)
template <typename T>
__device__ inline bool in_band_batch(const T* rois, std::int64_t r, const Shape& s, const Band& band) {
  return valid_batch(rois + 5 * r, s.n) && static_cast<std::int64_t>(rois[5 * r]) == band.batch;
}

/// Add(band, sum) adds the band's contributions with atomicAdd. The blocks walk
/// [0, N * C * bands) in order, so that a plane's bands run together. Shared: the sum is in
/// shared memory, written out at the end; else in grad_input itself.
template <typename acc_t, typename Add, bool Shared>
__global__ void __launch_bounds__(kBandThreads)
    band_backward(Shape s, std::int64_t channels, Bands bands, acc_t* __restrict__ grad_input, Add add) {
  extern __shared__ __align__(16) unsigned char band_memory[];
  const std::int64_t blocks = s.n * channels * bands.count;
  for (std::int64_t block = blockIdx.x; block < blocks; block += gridDim.x) {
    const Band band = band_of(block, s, channels, bands);
    acc_t* const out = band_start(grad_input, band, channels, s);
    const std::int64_t n = (band.y1 - band.y0) * s.w;  // a row may pass 2^31 (one row a band)
    if constexpr (Shared) {
      acc_t* const sum = reinterpret_cast<acc_t*>(band_memory);
      for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) sum[i] = acc_t(0);
      __syncthreads();
      add(band, sum);
      __syncthreads();
      for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) out[i] = sum[i];
      __syncthreads();  // the next band's zeroing waits for these reads
    } else {
      for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) out[i] = acc_t(0);
      // __syncthreads orders the zeros before the block's atomics; the fence (once a band)
      // also makes them visible device-wide first.
      __threadfence();
      __syncthreads();
      add(band, out);
    }
  }
}

/// The bands of launch_bands: kBandBytes of acc_t sums each.
template <typename acc_t>
Bands band_layout(const Shape& s) {
  return bands_for(s.h, s.w, sizeof(acc_t));
}

/// Launches band_backward over grad_input ([N, C, H, W], contiguous, acc_t) by band_layout's
/// bands, with the sums in shared memory if Shared and a band fits kBandBytes (a row does).
template <bool Shared, typename acc_t, typename Add>
void launch_bands(const Shape& s, std::int64_t channels, at::Tensor& grad_input, const Add& add) {
  const Bands bands = band_layout<acc_t>(s);
  const std::int64_t blocks = s.n * channels * bands.count;
  if (blocks == 0) return;
  const unsigned grid = band_grid(blocks);
  const std::int64_t bytes = bands.rows * s.w * static_cast<std::int64_t>(sizeof(acc_t));
  if constexpr (Shared) {
    if (bytes <= kBandBytes)
      return core::cuda::launch(band_backward<acc_t, Add, true>, grid, kBandThreads, bytes, s, channels, bands,
                                grad_input.mutable_data_ptr<acc_t>(), add);
  }
  core::cuda::launch(band_backward<acc_t, Add, false>, grid, kBandThreads, 0, s, channels, bands,
                     grad_input.mutable_data_ptr<acc_t>(), add);
}

using core::cuda::Entries;
using core::cuda::scatter_entries;

/// RoI ranges [first_roi[i], first_roi[i + 1]) and their first entries. A range's entries
/// (`counts`, int64 [K] on the device) and its RoIs' other temporaries (`roi_bytes` each:
/// their gradient with channels last) take at most half of grad_input's size, 8 MiB at
/// least (a single RoI may take more). One device-to-host copy.
struct Chunks {
  std::vector<std::int64_t> first_roi, first_entry;
};
Chunks plan_chunks(const at::Tensor& counts, std::int64_t roi_bytes, const at::Tensor& grad_input);

}  // namespace tvx::ops::roi::cuda
