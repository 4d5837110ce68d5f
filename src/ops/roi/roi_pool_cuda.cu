// roi_pool (max) and ps_roi_pool (mean) on CUDA: a thread reads one bin for one output value
// (roi_pool on NCHW input: for four channels), O(K * C' * RoI area) loads through the input's
// strides (channels_last: neighbouring threads take neighbouring channels). roi_pool computes
// each (RoI, bin)'s pixel range once, into a small table. Measured slower on an H100 and not
// kept: eight lanes per output value (1.6-5x), roi_pool on a channels-last copy of NCHW input
// (1.8x), one warp per (RoI, channel) with its lanes on neighbouring columns (2.09 against
// 0.46 ms), rows read in 16-byte chunks (roi_pool 469 -> 501 us); on an H200, two passes (each
// row's fmax, then the winning row's first equal pixel: fewer instructions a value) 374 -> 441 us;
// the warp on a RoI's columns again, four rows in flight, 880 against 329 us; 2, 4 or 8 lanes on
// neighbouring columns of each bin, shuffles combining their maxima (ties to the smaller flat
// index), against 318 us: 404, 639, 1149 us (faster only on bins twice as wide: a stride-2
// map, 1368 -> 1032 us with 2 lanes; slower on a stride-16 map, 104 -> 205 us).
// Backward, by default
// with atomics into NCHW by bands: roi_pool routes each gradient to its argmax
// (cuda::band_backward), ps_roi_pool adds each bin's at its corners (ps_pool_band_corners).
// Under torch.use_deterministic_algorithms
// both list their contributions as entries of core's ordered scatter instead (roi_pool: one
// per output value; ps_roi_pool: one per bin pixel).
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/ops/cumsum.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/sub.h>
#include <ATen/ops/full.h>
#include <ATen/ops/zeros.h>

#include <cfloat>
#include <limits>

#include "core/cuda.cuh"
#include "core/registration.h"
#include "ops/roi/roi.h"
#include "ops/roi/roi_cuda.cuh"

namespace tvx::ops::roi {
namespace {

namespace cu = tvx::core::cuda;
using cuda::Shape;
using cuda::work_item;


// roi_pool's (RoI, bin) pixels [h0, h1) x [w0, w1), clipped, as int4 (h0, h1, w0, w1): computed
// once here instead of by each of the C threads that pool the bin. The geometry (rounding,
// clamps, 64-bit arithmetic) cost more instructions than the loads of a typical bin.
template <typename T>
__global__ void pool_bins_kernel(const T* __restrict__ rois, Shape s, T scale, int4* __restrict__ bins,
                                 std::int64_t total) {
  for (std::int64_t i : cu::grid_stride(total)) {
    const std::int64_t r = i / (s.ph * s.pw), bin = i % (s.ph * s.pw);
    const PoolRoi<T> p = pool_roi(rois + 5 * r, scale, s.ph, s.pw, false);
    const PoolBin b = pool_bin(p, bin / s.pw, bin % s.pw, s.h, s.w);
    bins[i] = make_int4(static_cast<int>(b.h0), static_cast<int>(b.h1), static_cast<int>(b.w0), static_cast<int>(b.w1));
  }
}

// Unit: the input's columns are adjacent (stride 1, as in contiguous NCHW), known at compile
// time, so the unrolled row loop loads at constant offsets from one address instead of
// stepping a 64-bit pointer per value (on an H100, where the kernel was bound by instruction
// issue: 469 -> 380 us). roi_pool's kernel is now bound by L1 throughput (ncu, H200: 88%; a
// warp's lanes read rows of different bins, so a load uses about 5 of a sector's 32 bytes);
// reading rows in 16-byte chunks measured slower there (315 -> 355 us).
// roi_pool on NCHW input pools kPoolChannels channels per thread: one bin's geometry and loop
// for all, and as many independent loads in flight. H200, bench case: 1 channel 409-412 us,
// 2 channels 333-343 us, 4 channels 320-331 us (two calls).
constexpr int kPoolChannels = 4;

template <bool PS, bool ChannelsLast>
constexpr int pool_channels() {
  return !PS && !ChannelsLast ? kPoolChannels : 1;
}

template <typename scalar_t, typename T, typename index_t, bool PS, bool ChannelsLast, bool Unit>
__global__ void pool_forward_kernel(const scalar_t* __restrict__ input, const T* __restrict__ rois,
                                    const int4* __restrict__ bins, T scale, Shape s, scalar_t* __restrict__ output,
                                    std::int32_t* __restrict__ index, index_t total) {
  constexpr int CPT = pool_channels<PS, ChannelsLast>();
  const std::int64_t sw = Unit ? 1 : s.sw;
  for (std::int64_t i64 : cu::grid_stride(total)) {
    index_t r, c, ph, pw;
    // On NCHW input ps_roi_pool's neighbouring threads take the bins of one RoI (of sizes
    // within a pixel of each other), as roi_pool's do: with RoIs side by side (ps_roi_align's
    // order) a warp's loops ran 12.9 lanes of 32 (ncu, H200).
    work_item<CPT, index_t, false, ChannelsLast>(static_cast<index_t>(i64), s, r, c, ph, pw);
    int4 b;  // h0, h1, w0, w1
    if constexpr (PS) {  // its forward never pools the last row and column (see pool_bin)
      const PoolBin pb = pool_bin(pool_roi(rois + 5 * std::int64_t(r), scale, s.ph, s.pw, true), ph, pw, s.h - 1, s.w - 1);
      b = make_int4(static_cast<int>(pb.h0), static_cast<int>(pb.h1), static_cast<int>(pb.w0), static_cast<int>(pb.w1));
    } else {
      b = bins[(std::int64_t(r) * s.ph + ph) * s.pw + pw];
    }
    const bool empty = b.y <= b.x || b.w <= b.z;
    const std::int64_t c_in = PS ? ps_channel(c, ph, pw, s.ph, s.pw) : c;
    const std::int64_t o = ((std::int64_t(r) * s.c_out + c) * s.ph + ph) * s.pw + pw;
    const bool in_batch = cuda::valid_batch(rois + 5 * std::int64_t(r), s.n);
    const std::int64_t batch = in_batch ? static_cast<std::int64_t>(rois[5 * std::int64_t(r)]) : 0;
    const scalar_t* plane = input + batch * s.sn + c_in * s.sc;
    const int h1 = in_batch ? b.y : b.x;
    if constexpr (PS) {
      T sum = 0;
      for (int h = b.x; h < h1; ++h) {
        const scalar_t* p = plane + h * s.sh + b.z * sw;
        for (int w = b.z; w < b.w; ++w, p += sw) sum += static_cast<T>(*p);
      }
      output[o] = static_cast<scalar_t>(empty ? T(0) : sum / static_cast<T>((b.y - b.x) * (b.w - b.z)));
      index[o] = static_cast<std::int32_t>(c_in);
    } else {
      // Channels c .. c + CPT - 1; the last item's missing ones read channel c again, unwritten.
      const int channels = static_cast<int>(s.c_out - c < CPT ? s.c_out - c : CPT);
      std::int64_t offset[CPT];
#pragma unroll
      for (int q = 0; q < CPT; ++q) offset[q] = (q < channels ? q : 0) * s.sc;
      T best[CPT];
      int arg[CPT];
#pragma unroll
      for (int q = 0; q < CPT; ++q) best[q] = empty ? T(0) : static_cast<T>(-FLT_MAX), arg[q] = -1;
      for (int h = b.x; h < h1; ++h) {
        const scalar_t* p = plane + h * s.sh + b.z * sw;
        for (int w = b.z; w < b.w; ++w, p += sw) {
#pragma unroll
          for (int q = 0; q < CPT; ++q) {
            const T v = static_cast<T>(p[offset[q]]);
            if (v > best[q]) {
              best[q] = v;
              arg[q] = h * static_cast<int>(s.w) + w;
            }
          }
        }
      }
#pragma unroll
      for (int q = 0; q < CPT; ++q) {  // unrolled: best and arg stay in registers (no stack)
        if (q >= channels) break;
        output[o + q * s.ph * s.pw] = static_cast<scalar_t>(best[q]);
        index[o + q * s.ph * s.pw] = arg[q];
      }
    }
  }
}

// roi_pool's band backward (see cuda::band_backward), first pass: the span [lo, hi] of each
// (RoI, channel)'s argmax values in [0, H * W) (none: lo > hi), so that a band reads only the
// gradients that may fall in it, whatever argmax holds. A warp takes kSpanPairs pairs at a
// time, its lanes on neighbouring values of each (coalesced, kSpanPairs loads in flight), and
// reduces each pair's with __reduce_*_sync: 32.6 us for the bench case's 50 MB of argmax on
// an H200. Measured there and not kept: a thread walking its own pair's values (a warp's
// loads spread over 32 pairs), 35 us; the pairs' values copied through shared memory by the
// block, 56 us; a warp's lanes reading 32 pairs' values side by side, reduced by pair with
// __match_any_sync, 55 us.
constexpr int kSpanPairs = 4;

__global__ void argmax_spans(const std::int32_t* __restrict__ argmax, std::int64_t pairs, std::int64_t bins,
                             std::int64_t plane, int2* __restrict__ spans) {
  constexpr int kWarp = 32;
  const int lane = static_cast<int>(threadIdx.x) % kWarp;
  const std::int64_t warp = (std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
  const std::int64_t warps = std::int64_t(gridDim.x) * blockDim.x / kWarp;
  for (std::int64_t first = warp * kSpanPairs; first < pairs; first += warps * kSpanPairs) {
    int lo[kSpanPairs], hi[kSpanPairs];
#pragma unroll
    for (int u = 0; u < kSpanPairs; ++u) lo[u] = std::numeric_limits<int>::max(), hi[u] = -1;
    for (std::int64_t b = lane; b - lane < bins; b += kWarp) {  // warp-uniform trip count
#pragma unroll
      for (int u = 0; u < kSpanPairs; ++u) {
        const int a = first + u < pairs && b < bins ? argmax[(first + u) * bins + b] : -1;
        if (a >= 0 && a < plane) lo[u] = min(lo[u], a), hi[u] = max(hi[u], a);
      }
    }
#pragma unroll
    for (int u = 0; u < kSpanPairs; ++u) {
      const int l = __reduce_min_sync(~0u, lo[u]), h = __reduce_max_sync(~0u, hi[u]);
      if (lane == u && first + u < pairs) spans[first + u] = make_int2(l, h);
    }
  }
}

// roi_pool's band sum: a warp takes 32 RoIs at a time and keeps those of the band's batch
// whose span meets the band. Its lanes take neighbouring bins of kHits of them at once, all
// loads of grad and argmax first (kHits * kBins of each in flight), then the atomics of those
// whose argmax lies in the band.
template <typename grad_t, typename T>
struct RoiPoolBand {
  static constexpr int kWarp = 32, kHits = 4, kBins = 2;
  const grad_t* grad;
  const std::int32_t* argmax;
  const int2* spans;
  const T* rois;
  Shape s;

  __device__ void operator()(const cuda::Band& band, T* sum) const {
    const int lane = static_cast<int>(threadIdx.x) % kWarp;
    const std::int64_t bins = s.ph * s.pw, lo = band.y0 * s.w, hi = band.y1 * s.w;
    for (std::int64_t first = threadIdx.x - lane; first < s.k; first += blockDim.x) {
      const std::int64_t r = first + lane;
      bool hit = false;
      if (r < s.k) {
        const int2 span = spans[r * s.c_out + band.channel];
        hit = cuda::in_band_batch(rois, r, s, band) && span.x < hi && span.y >= lo;
      }
      for (unsigned hits = __ballot_sync(~0u, hit); hits != 0;) {
        std::int64_t base[kHits];
#pragma unroll
        for (int u = 0; u < kHits; ++u) {
          base[u] = hits != 0 ? ((first + __ffs(hits) - 1) * s.c_out + band.channel) * bins : -1;
          hits &= hits - 1;
        }
        for (std::int64_t bin0 = lane; bin0 < bins; bin0 += kWarp * kBins) {
          int a[kHits][kBins];
          T g[kHits][kBins];
#pragma unroll
          for (int u = 0; u < kHits; ++u)
#pragma unroll
            for (int v = 0; v < kBins; ++v) {
              const std::int64_t bin = bin0 + v * kWarp;
              const bool load = base[u] >= 0 && bin < bins;
              a[u][v] = load ? argmax[base[u] + bin] : -1;
              g[u][v] = load ? static_cast<T>(grad[base[u] + bin]) : T(0);
            }
#pragma unroll
          for (int u = 0; u < kHits; ++u)
#pragma unroll
            for (int v = 0; v < kBins; ++v)
              if (a[u][v] >= lo && a[u][v] < hi) atomicAdd(sum + (a[u][v] - lo), g[u][v]);
        }
      }
    }
  }
};

// ps_roi_pool's band sum where a row is wider than a corner band: a thread per RoI adds
// grad / area over the rows of its bin (the band's channel's bin) that lie in the band.
template <typename grad_t, typename T>
struct PsPoolBand {
  const grad_t* grad;
  const T* rois;
  Shape s;
  T scale;

  __device__ void operator()(const cuda::Band& band, T* sum) const {
    const std::int64_t bins = s.ph * s.pw, c = band.channel / bins, bin = band.channel % bins;
    for (std::int64_t r = threadIdx.x; r < s.k; r += blockDim.x) {
      if (!cuda::in_band_batch(rois, r, s, band)) continue;
      const PoolRoi<T> p = pool_roi(rois + 5 * r, scale, s.ph, s.pw, true);
      const PoolBin b = pool_bin(p, bin / s.pw, bin % s.pw, s.h - 1, s.w - 1);
      const std::int64_t h0 = b.h0 > band.y0 ? b.h0 : band.y0, h1 = b.h1 < band.y1 ? b.h1 : band.y1;
      if (b.empty() || h1 <= h0) continue;
      const T g = static_cast<T>(grad[(r * s.c_out + c) * bins + bin]) / static_cast<T>((b.h1 - b.h0) * (b.w1 - b.w0));
      for (std::int64_t h = h0; h < h1; ++h)
        for (std::int64_t w = b.w0; w < b.w1; ++w) atomicAdd(sum + (h - band.y0) * s.w + w, g);
    }
  }
};

// ps_roi_pool's RoI rows: from its first bin row's top to its last's bottom (bins grow
// monotonically), as the gradient clips them.
template <typename T>
struct PsPoolRows {
  Shape s;
  T scale;
  __device__ cuda::RowSpan operator()(const T* roi) const {
    const PoolRoi<T> p = pool_roi(roi, scale, s.ph, s.pw, true);
    return {pool_bin(p, 0, 0, s.h - 1, s.w - 1).h0, pool_bin(p, s.ph - 1, 0, s.h - 1, s.w - 1).h1};
  }
};

// The most rows of a corner band: its column pass walks them one after another.
constexpr std::int64_t kCornerRows = 64;

// A corner band's threads: the column pass takes a thread a column, so a block holds as many
// warps as the row's columns need, between 256 and kCornerThreads (W = 304: 320, not 256
// threads of which 48 would walk a second column while the rest wait).
constexpr int kCornerThreads = 512;
inline int corner_threads(std::int64_t width) {
  return static_cast<int>(std::clamp<std::int64_t>(cu::ceil_div<std::int64_t>(width, 32) * 32, cuda::kBandThreads,
                                                   kCornerThreads));
}

// A corner band's pixel: the difference array's sum and the count of bins covering it, side
// by side so that each pass moves both with one shared-memory access.
template <typename T>
struct alignas(2 * sizeof(T)) Cell {
  T sum;
  int count;
};

// ps_roi_pool's band backward by corners. A bin adds the same value g / area to each pixel of
// a rectangle, so instead of area atomics a bin (clipped to the band) adds +-g at its four
// corners of a difference array in shared memory, and +-1 at the same corners of a count of
// the bins covering a pixel. Prefix sums along the rows (a warp a row) and then down the
// columns (a thread a column, which writes the band out) turn both into the band's sums.
// Pixels that no bin covers are written as exact zeros: a float difference array leaves
// rounding there (g1 + g2 - g1 - g2). A pixel's rounding is that of the sums of the bins
// before it in its row and column, not of its own value alone. An inf or NaN would spread
// along the prefix sums, so such a bin is added to its own pixels afterwards. A band holds
// at most kBandBytes of cells, so its cell indices are 32-bit. H200, bench case, before the
// two changes below: 206 us against 250 us for a thread per RoI adding each pixel in the
// gradient (torchvision: 206 us after a 51 us zeroing pass); ncu: L1/TEX 81%, SM 69%, bound by
// the shared-memory passes. Then odd stretches in the row pass (no bank conflicts) and a
// thread for each column: 209 -> 191 us (two calls). Measured and not kept (same calls): a
// column difference only (a bin adds +-g along its top and bottom rows, no row pass), 196 us;
// a bin's loads issued before the zeroing, 192 us.
template <typename grad_t, typename T>
__global__ void __launch_bounds__(kCornerThreads)
    ps_pool_band_corners(const grad_t* __restrict__ grad, const T* __restrict__ rois, cuda::RoiList list, Shape s,
                         T scale, std::int64_t channels, cuda::Bands bands, T* __restrict__ grad_input) {
  extern __shared__ __align__(16) unsigned char band_memory[];
  constexpr int kWarp = 32;
  const int lane = static_cast<int>(threadIdx.x) % kWarp, warp = static_cast<int>(threadIdx.x) / kWarp;
  const int warps = static_cast<int>(blockDim.x) / kWarp, threads = static_cast<int>(blockDim.x);
  const std::int64_t blocks = s.n * channels * bands.count, bins = s.ph * s.pw;
  const int w = static_cast<int>(s.w);
  Cell<T>* const cells = reinterpret_cast<Cell<T>*>(band_memory);
  for (std::int64_t block = blockIdx.x; block < blocks; block += gridDim.x) {
    const cuda::Band band = cuda::band_of(block, s, channels, bands);
    const int rows = static_cast<int>(band.y1 - band.y0), n = rows * w;
    const std::int64_t c = band.channel / bins, bin = band.channel % bins;
    for (int i = threadIdx.x; i < n; i += threads) cells[i] = Cell<T>{T(0), 0};
    __syncthreads();
    // Entry e's bin in this band: rows [top, bottom) of the band, columns [left, right), and
    // its value g; none (bottom == 0) if the RoI is of another batch or misses the band.
    struct Piece {
      int top = 0, bottom = 0, left = 0, right = 0;
      T g = 0;
    };
    auto piece = [&](std::int64_t e) {
      Piece q;
      const std::int64_t r = list.roi(band, e);
      if (!cuda::in_band_batch(rois, r, s, band)) return q;
      const PoolBin b = pool_bin(pool_roi(rois + 5 * r, scale, s.ph, s.pw, true), bin / s.pw, bin % s.pw, s.h - 1,
                                 s.w - 1);
      const std::int64_t top = (b.h0 > band.y0 ? b.h0 : band.y0) - band.y0;
      const std::int64_t bottom = (b.h1 < band.y1 ? b.h1 : band.y1) - band.y0;
      if (b.empty() || bottom <= top) return q;  // else 0 <= top < bottom <= rows: ints
      q.top = static_cast<int>(top), q.bottom = static_cast<int>(bottom);
      q.left = static_cast<int>(b.w0), q.right = static_cast<int>(b.w1);
      q.g = static_cast<T>(grad[(r * s.c_out + c) * bins + bin]) / static_cast<T>((b.h1 - b.h0) * (b.w1 - b.w0));
      return q;
    };
    const std::int64_t size = list.size(band);
    bool nonfinite = false;  // whether this thread met a bin holding an inf or NaN
    for (std::int64_t e = threadIdx.x; e < size; e += threads) {
      const Piece q = piece(e);
      // A zero adds nothing (and leaves its pixels uncovered, exact zeros); an inf or NaN
      // would spread through the prefix sums: it is added to its own pixels after them.
      if (q.bottom == 0 || q.g == T(0)) continue;
      if (!isfinite(q.g)) {
        nonfinite = true;
        continue;
      }
      auto corner = [&](int y, int x, T v, int step) {
        atomicAdd(&cells[y * w + x].sum, v);
        atomicAdd(&cells[y * w + x].count, step);
      };
      corner(q.top, q.left, q.g, 1);
      const bool inside = q.right < w;  // always (bins end at W - 1); guards the cell index
      if (inside) corner(q.top, q.right, -q.g, -1);
      if (q.bottom < rows) {
        corner(q.bottom, q.left, -q.g, -1);
        if (inside) corner(q.bottom, q.right, q.g, 1);
      }
    }
    const bool any_nonfinite = __syncthreads_or(nonfinite);
    // Along the rows: a lane's stretch of a row in turn, then the warp's scan of the stretches.
    // An odd stretch: a half-warp's 8-byte cells then fall in distinct banks.
    const int stretch = (w + kWarp - 1) / kWarp | 1, first = lane * stretch, last = min(first + stretch, w);
    for (int y = warp; y < rows; y += warps) {
      Cell<T>* const row = cells + y * w;
      Cell<T> own{T(0), 0};
      for (int x = first; x < last; ++x) {
        const Cell<T> v = row[x];
        own.sum += v.sum, own.count += v.count;
      }
      for (int d = 1; d < kWarp; d *= 2) {  // inclusive scan of the stretches
        const T up_sum = __shfl_up_sync(~0u, own.sum, d);
        const int up_count = __shfl_up_sync(~0u, own.count, d);
        if (lane >= d) own.sum += up_sum, own.count += up_count;
      }
      // The stretches before this lane's: the previous lane's inclusive sum (no subtraction,
      // which would leave a large corner's rounding on the pixels before it).
      Cell<T> run{__shfl_up_sync(~0u, own.sum, 1), __shfl_up_sync(~0u, own.count, 1)};
      if (lane == 0) run = Cell<T>{T(0), 0};
      for (int x = first; x < last; ++x) {
        const Cell<T> v = row[x];
        run.sum += v.sum, run.count += v.count;
        row[x] = run;
      }
    }
    __syncthreads();
    // Down the columns, writing the band out.
    T* const out = cuda::band_start(grad_input, band, channels, s);
    for (int x = threadIdx.x; x < w; x += threads) {
      Cell<T> run{T(0), 0};
      for (int y = 0; y < rows; ++y) {
        const Cell<T> v = cells[y * w + x];
        run.sum += v.sum, run.count += v.count;
        out[y * w + x] = run.count != 0 ? run.sum : T(0);
      }
    }
    if (any_nonfinite) {  // rare: inf and NaN values on their own pixels, as torchvision adds them
      __syncthreads();  // after the band's plain stores
      for (std::int64_t e = threadIdx.x; e < size; e += threads) {
        const Piece q = piece(e);
        if (q.bottom == 0 || isfinite(q.g)) continue;
        for (int y = q.top; y < q.bottom; ++y)
          for (int x = q.left; x < q.right; ++x) atomicAdd(out + y * w + x, q.g);
      }
    }
    __syncthreads();  // the next band's zeroing waits for these reads
  }
}

// roi_pool, deterministic: one entry per output value, keyed by (batch, channel, argmax).
template <typename T, typename key_t>
__global__ void roi_pool_entries(const std::int32_t* __restrict__ argmax, const T* __restrict__ rois,
                                 std::int64_t first, Shape s, std::int64_t n, key_t* __restrict__ keys,
                                 std::int64_t* __restrict__ source, T* __restrict__ weight) {
  const std::int64_t bins = s.ph * s.pw, plane = s.h * s.w, begin = first * s.c_out * bins;
  for (std::int64_t e : cu::grid_stride(n)) {
    const std::int64_t i = begin + e;
    const std::int64_t r = i / (s.c_out * bins), c = (i / bins) % s.c_out;
    const std::int64_t batch = static_cast<std::int64_t>(rois[5 * r]);
    const std::int64_t a = argmax[i];
    const bool valid = cuda::valid_batch(rois + 5 * r, s.n) && a >= 0 && a < plane;
    keys[e] = valid ? static_cast<key_t>((batch * s.c_out + c) * plane + a) : key_t(-1);
    source[e] = e;  // grad[r, c, ph, pw] in the chunk's gradient
    weight[e] = T(1);
  }
}

// ps_roi_pool: entries per RoI, the pixels of its bins as the forward pooled them.
template <typename T>
__global__ void ps_pool_entry_counts(const T* __restrict__ rois, Shape s, T scale, std::int64_t* __restrict__ counts) {
  for (std::int64_t r : cu::grid_stride(s.k)) {
    const PoolRoi<T> p = pool_roi(rois + 5 * r, scale, s.ph, s.pw, true);
    std::int64_t total = 0;
    for (std::int64_t ph = 0; ph < s.ph; ++ph)
      for (std::int64_t pw = 0; pw < s.pw; ++pw) {
        const PoolBin b = pool_bin(p, ph, pw, s.h - 1, s.w - 1);
        if (!b.empty()) total += (b.h1 - b.h0) * (b.w1 - b.w0);
      }
    counts[r] = total;
  }
}

template <typename T, typename key_t>
__global__ void ps_pool_entries(const T* __restrict__ rois, std::int64_t first, std::int64_t k, Shape s, T scale,
                                const std::int64_t* __restrict__ offsets, std::int64_t base, key_t* __restrict__ keys,
                                std::int64_t* __restrict__ source, T* __restrict__ weight) {
  const std::int64_t bins = s.ph * s.pw, plane = s.h * s.w;
  for (std::int64_t i : cu::grid_stride(k * bins)) {
    const std::int64_t r = first + i / bins, bin = i % bins;
    const PoolRoi<T> p = pool_roi(rois + 5 * r, scale, s.ph, s.pw, true);
    std::int64_t e = offsets[r] - base;
    for (std::int64_t before = 0; before < bin; ++before) {
      const PoolBin b = pool_bin(p, before / s.pw, before % s.pw, s.h - 1, s.w - 1);
      if (!b.empty()) e += (b.h1 - b.h0) * (b.w1 - b.w0);
    }
    const bool in_batch = cuda::valid_batch(rois + 5 * r, s.n);
    const PoolBin b = pool_bin(p, bin / s.pw, bin % s.pw, s.h - 1, s.w - 1);
    if (b.empty()) continue;
    const T share = T(1) / static_cast<T>((b.h1 - b.h0) * (b.w1 - b.w0));
    for (std::int64_t h = b.h0; h < b.h1; ++h)
      for (std::int64_t w = b.w0; w < b.w1; ++w, ++e) {
        keys[e] = in_batch ? static_cast<key_t>(((p.batch * bins) + bin) * plane + h * s.w + w) : key_t(-1);
        // grad[r, 0, ph, pw] in the chunk's gradient with channels last (see pool_backward).
        source[e] = ((r - first) * bins + bin) * s.c_out;
        weight[e] = share;
      }
  }
}

std::tuple<at::Tensor, at::Tensor> pool_forward(const char* op, const at::Tensor& input, const at::Tensor& rois,
                                                double spatial_scale, std::int64_t ph, std::int64_t pw, bool ps) {
  check_forward(op, input, rois, spatial_scale, ph, pw, ps);
  // The argmax is int32 (h * W + w, as torchvision's), and so are the bin table's bounds.
  TORCH_CHECK(input.size(2) * input.size(3) <= std::numeric_limits<std::int32_t>::max(), op,
              ": height * width must be below 2^31, got ", input.size(2), " x ", input.size(3));
  cu::DeviceGuard guard(input);
  const std::int64_t k = rois.size(0), channels = input.size(1);
  const std::int64_t c_out = ps ? channels / (ph * pw) : channels;
  at::Tensor output = at::empty({k, c_out, ph, pw}, input.options());
  at::Tensor index = at::empty({k, c_out, ph, pw}, input.options().dtype(at::kInt));
  if (output.numel() == 0) return {output, index};
  const Shape s{input.size(0), input.size(2), input.size(3), input.stride(0), input.stride(1), input.stride(2),
                input.stride(3), k, c_out, ph, pw};
  const bool channels_last = input.stride(1) == 1 && channels > 1;
  const bool small = output.numel() < std::numeric_limits<std::int32_t>::max();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "tvx_roi_pool_cuda", [&] {
    using T = at::opmath_type<scalar_t>;
    const at::Tensor r = rois_for(rois, input.scalar_type());
    const T scale = static_cast<T>(spatial_scale);
    // ps_roi_pool's bins feed C' = C / (PH * PW) threads each, too few to pay for the table:
    // its threads compute their own.
    at::Tensor bins;
    int4* bins_ptr = nullptr;
    if (!ps) {
      bins = at::empty({k * ph * pw * 4}, input.options().dtype(at::kInt));
      bins_ptr = reinterpret_cast<int4*>(bins.mutable_data_ptr<std::int32_t>());
      cu::launch(pool_bins_kernel<T>, cu::blocks_for(k * ph * pw, 256), 256, 0, r.const_data_ptr<T>(), s, scale,
                 bins_ptr, k * ph * pw);
    }
    const bool unit = s.sw == 1;
    cuda::for_layout(ps, channels_last, small, [&](auto ps_tag, auto cl_tag, auto index_type) {
      using index_t = decltype(index_type);
      constexpr bool PS = decltype(ps_tag)::value, CL = decltype(cl_tag)::value;
      constexpr int CPT = pool_channels<PS, CL>();
      const std::int64_t total = k * ph * pw * ((c_out + CPT - 1) / CPT);  // work items
      auto launch = [&](auto kernel) {
        cu::launch(kernel, cu::blocks_for(total, 256), 256, 0, input.const_data_ptr<scalar_t>(), r.const_data_ptr<T>(),
                   bins_ptr, scale, s, output.data_ptr<scalar_t>(), index.data_ptr<std::int32_t>(),
                   static_cast<index_t>(total));
      };
      if constexpr (!CL) {
        if (unit) return launch(pool_forward_kernel<scalar_t, T, index_t, PS, CL, true>);
      }
      launch(pool_forward_kernel<scalar_t, T, index_t, PS, CL, false>);
    });
  });
  return {output, index};
}

at::Tensor pool_backward(const char* op, const at::Tensor& grad_arg, const at::Tensor& rois, const at::Tensor& argmax,
                         double spatial_scale, std::int64_t ph, std::int64_t pw, std::int64_t batch_size,
                         std::int64_t channels, std::int64_t height, std::int64_t width, bool ps) {
  check_backward(op, grad_arg, rois, spatial_scale, ph, pw, batch_size, channels, height, width, ps);
  if (!ps) {
    TORCH_CHECK(argmax.scalar_type() == at::kInt && argmax.sizes() == grad_arg.sizes(), op,
                ": argmax must be int32 of grad's shape ", grad_arg.sizes(), ", got ", argmax.sizes());
    TORCH_CHECK(argmax.device() == grad_arg.device(), op, ": argmax must be on grad's device");
  }
  cu::DeviceGuard guard(grad_arg);
  const std::int64_t k = rois.size(0), c_out = grad_arg.size(1), bins = ph * pw;
  const Shape s{batch_size, height, width, 0, 0, 0, 0, k, c_out, ph, pw};
  const at::Tensor grad = grad_arg.contiguous();
  if (cuda::atomic_backward()) {
    at::Tensor sum = at::empty({batch_size, channels, height, width},
                               grad.options().dtype(at::toOpMathType(grad.scalar_type())));
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad.scalar_type(), "tvx_roi_pool_backward_cuda", [&] {
      using T = at::opmath_type<scalar_t>;
      const at::Tensor r = rois_for(rois, grad.scalar_type());
      if (ps) {
        const cuda::Bands bands = cuda::bands_for(height, width, sizeof(Cell<T>), kCornerRows);
        const std::int64_t bytes = bands.rows * width * static_cast<std::int64_t>(sizeof(Cell<T>));
        const std::int64_t blocks = batch_size * channels * bands.count;
        if (bytes > cuda::kBandBytes) {  // a row wider than a band: bins add their pixels in grad_input
          cuda::launch_bands<false, T>(s, channels, sum,
                                       PsPoolBand<scalar_t, T>{grad.const_data_ptr<scalar_t>(), r.const_data_ptr<T>(),
                                                               s, static_cast<T>(spatial_scale)});
          return;
        }
        if (blocks == 0) return;
        const T scale = static_cast<T>(spatial_scale);
        const cuda::BandRois lists = cuda::band_rois<T>(r, s, bands, PsPoolRows<T>{s, scale}, sum.nbytes());
        cu::launch(ps_pool_band_corners<scalar_t, T>, cuda::band_grid(blocks), corner_threads(width),
                   bytes, grad.const_data_ptr<scalar_t>(), r.const_data_ptr<T>(), lists.view(), s, scale, channels,
                   bands, sum.mutable_data_ptr<T>());
        return;
      }
      const at::Tensor am = argmax.contiguous();
      at::Tensor spans = at::empty({k * c_out * 2}, grad.options().dtype(at::kInt));
      int2* const spans_ptr = reinterpret_cast<int2*>(spans.mutable_data_ptr<std::int32_t>());
      cu::launch(argmax_spans, cu::blocks_for(cu::ceil_div<std::int64_t>(k * c_out, kSpanPairs) * 32, 256), 256, 0,
                 am.const_data_ptr<std::int32_t>(), k * c_out, bins, height * width, spans_ptr);
      cuda::launch_bands<true, T>(s, channels, sum,
                                  RoiPoolBand<scalar_t, T>{grad.const_data_ptr<scalar_t>(), am.const_data_ptr<std::int32_t>(),
                                                     spans_ptr, r.const_data_ptr<T>(), s});
    });
    return sum.to(grad.scalar_type());
  }
  at::Tensor grad_input = grad_input_sum(grad_arg, batch_size, channels, height, width);
  const at::ScalarType acc = grad_input.scalar_type();
  if (grad_arg.numel() == 0 || grad_input.numel() == 0) {
    return grad_input.to(grad_arg.scalar_type());
  }
  const bool small_keys = batch_size * channels * height * width < std::numeric_limits<std::int32_t>::max();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad.scalar_type(), "tvx_roi_pool_backward_cuda", [&] {
    using scalar_grad_t = scalar_t;
    AT_DISPATCH_FLOATING_TYPES(acc, "tvx_roi_pool_backward_acc", [&] {
      using T = scalar_t;
      const at::Tensor r = rois_for(rois, grad.scalar_type());
      const at::Tensor am = ps ? at::Tensor() : argmax.contiguous();
      at::Tensor counts;
      if (ps) {
        counts = at::empty({k}, grad.options().dtype(at::kLong));
        cu::launch(ps_pool_entry_counts<T>, cu::blocks_for(k, 256), 256, 0, r.const_data_ptr<T>(), s,
                   static_cast<T>(spatial_scale), counts.data_ptr<std::int64_t>());
      } else {
        counts = at::full({k}, c_out * bins, grad.options().dtype(at::kLong));
      }
      const at::Tensor offsets = at::sub(at::cumsum(counts, 0), counts);
      const cuda::Chunks chunks = cuda::plan_chunks(counts, ps ? c_out * bins * grad.element_size() : 0, grad_input);
      for (std::size_t chunk = 0; chunk + 1 < chunks.first_roi.size(); ++chunk) {
        const std::int64_t first = chunks.first_roi[chunk], n_rois = chunks.first_roi[chunk + 1] - first;
        const std::int64_t base = chunks.first_entry[chunk], n = chunks.first_entry[chunk + 1] - base;
        if (n_rois == 0 || n == 0) continue;
        cuda::Entries entries{at::empty({n}, grad.options().dtype(small_keys ? at::kInt : at::kLong)),
                              at::empty({n}, grad.options().dtype(at::kLong)),
                              at::empty({n}, grad.options().dtype(acc))};
        AT_DISPATCH_INDEX_TYPES(entries.key.scalar_type(), "tvx_roi_pool_entries", [&] {
          if (ps)
            cu::launch(ps_pool_entries<T, index_t>, cu::blocks_for(n_rois * bins, 128), 128, 0, r.const_data_ptr<T>(),
                       first, n_rois, s, static_cast<T>(spatial_scale), offsets.const_data_ptr<std::int64_t>(), base,
                       entries.key.data_ptr<index_t>(), entries.source.data_ptr<std::int64_t>(),
                       entries.weight.data_ptr<T>());
          else
            cu::launch(roi_pool_entries<T, index_t>, cu::blocks_for(n, 256), 256, 0, am.const_data_ptr<std::int32_t>(),
                       r.const_data_ptr<T>(), first, s, n, entries.key.data_ptr<index_t>(),
                       entries.source.data_ptr<std::int64_t>(), entries.weight.data_ptr<T>());
        });
        // ps: groups are bins, channel j = c_out, read from the chunk's gradient with channels
        // last; roi_pool: groups are channels, one each, an entry's source its output value.
        const at::Tensor rows = grad.narrow(0, first, n_rois);
        if (ps)
          cuda::scatter_entries(entries, rows.permute({0, 2, 3, 1}).contiguous(), 1, grad_input, bins, c_out,
                                chunk > 0);
        else
          cuda::scatter_entries(entries, rows, 0, grad_input, channels, 1, chunk > 0);
      }
    });
  });
  return grad_input.to(grad_arg.scalar_type());
}

}  // namespace

TVX_LIBRARY_IMPL(CUDA, m) { PoolBackend<&pool_forward, &pool_backward>::define(m); }

}  // namespace tvx::ops::roi
