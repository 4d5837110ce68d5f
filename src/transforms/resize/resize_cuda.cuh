// resize on CUDA, shared with preprocess: one launch resamples a batch of images of any sizes.
// Every output value is sum_i wy[i] * (sum_j wx[j] * in(c, sy + i, sx + j)) with the taps of
// resize.cpp (as ATen computes them for float32): each input row of the vertical window is
// summed over the horizontal window, then the row sums are weighed, the association of ATen's
// kernels. Two kernels compute it in that same order:
// - resample_tiled (the separable modes): a block makes a 32-column tile of one image, sums
//   each input row once into shared memory and weighs the sums into the tile's outputs;
// - resample2d (the nearest modes, and windows too wide to tile): a thread per output pixel.
// Reads go through the image's strides (planar, channels_last or an HWC view), so nothing is
// copied first; each output value is written once. The Store functor turns the float sum into
// the output: resize's rounding for uint8, preprocess's scale-and-normalise.
#pragma once

#include <ATen/core/CachingHostAllocator.h>
#include <ATen/core/Tensor.h>
#include <c10/cuda/CUDACachingAllocator.h>

#include <cstdint>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "core/cuda.cuh"
#include "transforms/resize/resize.h"

namespace tvx::transforms::cuda_resize {

/// One image of a batch: where it is, its size, and which output pixels to make of it.
struct Job {
  const void* in;
  void* out;
  std::int64_t in_sc, in_sy, in_sx;     // element strides of the input: channel, row, pixel
  std::int64_t out_sc, out_sy, out_sx;  // and of the output
  std::int32_t h, w;                    // input size
  std::int32_t rh, rw;                  // the resized grid
  std::int32_t oh, ow;                  // output pixels made (a crop of the resized grid)
  std::int32_t top, left;               // where that crop starts in the grid (< 0: padding)
  std::int32_t taps_y, taps_x;          // the first tap entry of each axis in the table
  std::int32_t tiles_x;                 // the tiled kernel: tiles per output row
  std::int64_t first_tile;              // and the job's first tile in the launch
};

/// The job that resamples `in` into `out`: [C, H, W] tensors, or with an index, that image of
/// an [N, C, H, W] batch, read through pointer and strides without a view of it (a view per
/// image costs more host time than the kernel takes on it). preprocess then sets the resized
/// grid and the crop.
inline Job make_job(const at::Tensor& in, std::optional<std::int64_t> in_b, const at::Tensor& out,
                    std::optional<std::int64_t> out_b) {
  const std::int64_t i = in_b ? 1 : 0, o = out_b ? 1 : 0;  // the first [C, H, W] dimension
  Job j{};
  j.in = static_cast<const char*>(in.const_data_ptr()) + (in_b ? *in_b * in.stride(0) * in.element_size() : 0);
  j.out = static_cast<char*>(out.mutable_data_ptr()) + (out_b ? *out_b * out.stride(0) * out.element_size() : 0);
  j.in_sc = in.stride(i), j.in_sy = in.stride(i + 1), j.in_sx = in.stride(i + 2);
  j.out_sc = out.stride(o), j.out_sy = out.stride(o + 1), j.out_sx = out.stride(o + 2);
  j.h = std::int32_t(in.size(i + 1)), j.w = std::int32_t(in.size(i + 2));
  j.oh = std::int32_t(out.size(o + 1)), j.ow = std::int32_t(out.size(o + 2));
  j.rh = j.oh, j.rw = j.ow;
  return j;
}

/// The taps of every axis of a batch, in one table: entry e reads start[e] .. start[e] +
/// count[e] - 1 with weights[e * stride ...]. Equal axes (same sizes) share entries.
template <typename Acc>
struct TapTable {
  std::vector<std::int32_t> start, count;
  std::vector<Acc> weights;
  std::int64_t stride = 0;
  bool monotonic = true;  // every axis's windows start and end in rising order
  std::map<std::pair<std::int64_t, std::int64_t>, std::int32_t> seen;  // in -> out: its first entry
  std::vector<detail::Taps> pending;
  std::vector<std::int32_t> offsets;

  /// The first entry of the axis in -> out, added once.
  std::int32_t add(std::int64_t in, std::int64_t out, Interpolation mode, bool antialias, at::ScalarType dtype) {
    const auto key = std::make_pair(in, out);
    if (auto it = seen.find(key); it != seen.end()) return it->second;
    detail::Taps t;
    if (mode == Interpolation::nearest || mode == Interpolation::nearest_exact) {
      const auto idx = detail::nearest_indices(in, out, mode == Interpolation::nearest_exact,
                                               detail::NearestKernel::channels_last);  // ATen's CUDA rounding
      t.start = idx;
      t.count.assign(idx.size(), 1);
      t.weights.assign(idx.size(), 1.0);
      t.width = 1;
    } else {
      t = detail::compute_taps(in, out, mode, antialias, dtype);
    }
    const std::int32_t first = std::int32_t(start.size());
    for (std::int64_t i = 0; i < out; ++i) {
      start.push_back(std::int32_t(t.start[i]));
      count.push_back(std::int32_t(t.count[i]));
      if (i > 0 && (t.start[i] < t.start[i - 1] || t.start[i] + t.count[i] < t.start[i - 1] + t.count[i - 1]))
        monotonic = false;
    }
    stride = std::max(stride, t.width);
    pending.push_back(std::move(t));
    offsets.push_back(first);
    seen.emplace(key, first);
    return first;
  }

  /// The weights laid out with the final stride.
  void finish() {
    weights.assign(start.size() * std::size_t(stride), Acc(0));
    for (std::size_t a = 0; a < pending.size(); ++a) {
      const auto& t = pending[a];
      for (std::size_t i = 0; i < t.start.size(); ++i)
        for (std::int64_t j = 0; j < t.count[i]; ++j)
          weights[(offsets[a] + i) * stride + j] = Acc(t.weights[i * std::size_t(t.width) + j]);
    }
  }
};

/// The jobs and the table on the device: one pinned host block and one device block from
/// PyTorch's caching allocators (no tensors: their dispatch would cost more host time than the
/// kernel takes on a batch), one asynchronous copy on the current stream. The host block is
/// not reused before the copy is done (record_event); the device block, freed once the kernel
/// is enqueued, is reused only in the stream's order.
struct DevicePlan {
  at::DataPtr buffer;
  const Job* jobs;
  const std::int32_t* start;
  const std::int32_t* count;
  const void* weights;
  std::int64_t stride;
};

template <typename Acc>
DevicePlan upload(const std::vector<Job>& jobs, TapTable<Acc>& table) {
  table.finish();
  const auto align = [](std::size_t n) { return (n + 15) / 16 * 16; };
  const std::size_t jb = align(jobs.size() * sizeof(Job)), sb = align(table.start.size() * sizeof(std::int32_t));
  const std::size_t wb = table.weights.size() * sizeof(Acc), total = jb + 2 * sb + wb;
  at::HostAllocator* host_allocator = at::getHostAllocator(at::kCUDA);
  const at::DataPtr host = host_allocator->allocate(total);
  auto* h = static_cast<std::uint8_t*>(host.get());
  std::memcpy(h, jobs.data(), jobs.size() * sizeof(Job));
  std::memcpy(h + jb, table.start.data(), table.start.size() * sizeof(std::int32_t));
  std::memcpy(h + jb + sb, table.count.data(), table.count.size() * sizeof(std::int32_t));
  std::memcpy(h + jb + 2 * sb, table.weights.data(), wb);
  DevicePlan plan;
  plan.buffer = c10::cuda::CUDACachingAllocator::get()->allocate(total);
  const auto stream = c10::cuda::getCurrentCUDAStream();
  C10_CUDA_CHECK(cudaMemcpyAsync(plan.buffer.get(), h, total, cudaMemcpyHostToDevice, stream));
  host_allocator->record_event(host.get(), host.get_context(), stream.unwrap());
  const auto* d = static_cast<const std::uint8_t*>(plan.buffer.get());
  plan.jobs = reinterpret_cast<const Job*>(d);
  plan.start = reinterpret_cast<const std::int32_t*>(d + jb);
  plan.count = reinterpret_cast<const std::int32_t*>(d + jb + sb);
  plan.weights = d + jb + 2 * sb;
  plan.stride = table.stride;
  return plan;
}

template <typename T>
__device__ __forceinline__ float to_acc(T v, float) { return static_cast<float>(v); }
template <typename T>
__device__ __forceinline__ double to_acc(T v, double) { return static_cast<double>(v); }

/// a * b + c in one rounding: how both kernels (and ATen's) sum, written out so that the two
/// give the same bits whatever the compiler would contract.
__device__ __forceinline__ float madd(float a, float b, float c) { return __fmaf_rn(a, b, c); }
__device__ __forceinline__ double madd(double a, double b, double c) { return __fma_rn(a, b, c); }

/// out(c, y, x) = store(c, sum_i wy[i] * sum_j wx[j] * in(c, sy + i, sx + j)) for every job;
/// a pixel of the crop outside the resized grid (center_crop's padding) stores 0.
template <int C, typename In, typename Acc, typename Store>
__global__ void resample2d(const Job* __restrict__ jobs, const std::int32_t* __restrict__ starts,
                           const std::int32_t* __restrict__ counts, const Acc* __restrict__ weights,
                           std::int64_t stride, std::int32_t channels, Store store) {
  const Job job = jobs[blockIdx.y];
  const In* in = static_cast<const In*>(job.in);
  const std::int64_t pixels = std::int64_t(job.oh) * job.ow;
  for (std::int64_t p = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; p < pixels;
       p += std::int64_t(blockDim.x) * gridDim.x) {
    const std::int32_t oy = std::int32_t(p / job.ow), ox = std::int32_t(p % job.ow);
    const std::int32_t ry = job.top + oy, rx = job.left + ox;
    const std::int32_t nc = C > 0 ? C : channels;
    if (ry < 0 || ry >= job.rh || rx < 0 || rx >= job.rw) {
      for (std::int32_t c = 0; c < nc; ++c) store(job, c, oy, ox, Acc(0));
      continue;
    }
    const std::int32_t ey = job.taps_y + ry, ex = job.taps_x + rx;
    const std::int32_t sy = starts[ey], ny = counts[ey], sx = starts[ex], nx = counts[ex];
    const Acc* wy = weights + ey * stride;
    const Acc* wx = weights + ex * stride;
    for (std::int32_t c0 = 0; c0 < nc; c0 += (C > 0 ? C : 1)) {
      constexpr int kLanes = C > 0 ? C : 1;
      Acc acc[kLanes] = {};
      for (std::int32_t i = 0; i < ny; ++i) {
        const In* row = in + (sy + i) * job.in_sy + sx * job.in_sx + c0 * job.in_sc;
        Acc sum[kLanes] = {};
        for (std::int32_t j = 0; j < nx; ++j) {
#pragma unroll
          for (int c = 0; c < kLanes; ++c) sum[c] = madd(wx[j], to_acc(row[j * job.in_sx + c * job.in_sc], Acc()), sum[c]);
        }
#pragma unroll
        for (int c = 0; c < kLanes; ++c) acc[c] = madd(wy[i], sum[c], acc[c]);
      }
#pragma unroll
      for (int c = 0; c < kLanes; ++c) store(job, c0 + c, oy, ox, acc[c]);
    }
  }
}

// The tiled kernel: a block makes a tile of kTileX x tile_y output pixels of one image, all
// channels, in two passes through shared memory. The horizontal pass sums each input row of
// the tile's vertical span over each output column's window into `rows` (a warp per input
// row, a lane per output column, the input read through the L1 cache); the vertical pass
// weighs those row sums into the outputs. Each product and sum is the direct kernel's, in its
// order (so both give the same bits), but a row sum serves every output of the tile that
// reads its row instead of being recomputed for each. On the bench batch (64 x 512x512 uint8
// -> 224, H100) it takes 0.10 ms against the direct kernel's 0.19. Copying each row's span into
// shared memory first, coalesced and in 4-byte words, measured slower (0.165 against 0.109 ms).
constexpr int kTileX = 32;  // a warp's lanes: output columns
constexpr int kMaxTileY = 16;
constexpr int kTiledThreads = 256;
constexpr int kWarps = kTiledThreads / 32;
constexpr std::size_t kStaticSharedBytes = 512;  // the taps, the span and the job
constexpr std::size_t kTiledSharedBytes = 48 * 1024 - kStaticSharedBytes;  // dynamic, without the opt-in

/// The weights' row pitch in shared memory: odd, so that the lanes reading weight j of their
/// columns hit different banks.
__host__ __device__ constexpr std::int64_t shared_pitch(std::int64_t stride) { return stride | 1; }

template <bool kMin>
__device__ __forceinline__ std::int32_t warp_reduce(std::int32_t v) {
#pragma unroll
  for (int d = 16; d > 0; d /= 2) {
    const std::int32_t o = __shfl_xor_sync(0xffffffffu, v, d);
    v = kMin ? min(v, o) : max(v, o);
  }
  return v;
}

template <int C, typename In, typename Acc, typename Store>
__global__ void __launch_bounds__(kTiledThreads)
    resample_tiled(const Job* __restrict__ jobs, std::int32_t njobs, std::int64_t uniform_tiles,
                   const std::int32_t* __restrict__ starts, const std::int32_t* __restrict__ counts,
                   const Acc* __restrict__ weights, std::int64_t stride, std::int32_t tile_y, std::int32_t span_y,
                   Store store) {
  extern __shared__ __align__(16) unsigned char shared[];
  __shared__ std::int32_t xs[kTileX], xn[kTileX], ys[kMaxTileY], yn[kMaxTileY], span[2];
  static_assert(sizeof(std::int32_t) * (2 * kTileX + 2 * kMaxTileY + 2) + sizeof(Job) <= kStaticSharedBytes);
  const std::int64_t pitch = shared_pitch(stride);
  Acc* xw = reinterpret_cast<Acc*>(shared);  // [kTileX][pitch]: the columns' weights
  Acc* yw = xw + kTileX * pitch;             // [tile_y][pitch]: the rows'
  Acc* rows = yw + tile_y * pitch;           // [C][span_y][kTileX]: the row sums

  // The job whose tiles hold this block: every job's tile count, or the last job that starts
  // at or before the block.
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const std::int64_t tile = blockIdx.x;
  std::int32_t lo = 0;
  if (uniform_tiles > 0) {
    lo = std::int32_t(tile / uniform_tiles);
  } else {
    for (std::int32_t hi = njobs - 1; lo < hi;) {
      const std::int32_t mid = (lo + hi + 1) / 2;
      if (jobs[mid].first_tile <= tile) lo = mid; else hi = mid - 1;
    }
  }
  // The job in shared memory, not in 28 registers of every thread.
  __shared__ Job shared_job;
  static_assert(sizeof(Job) % sizeof(std::int32_t) == 0);
  if (tid < std::int32_t(sizeof(Job) / sizeof(std::int32_t)))
    reinterpret_cast<std::int32_t*>(&shared_job)[tid] = reinterpret_cast<const std::int32_t*>(jobs + lo)[tid];
  __syncthreads();
  const Job& job = shared_job;
  const std::int64_t t = tile - job.first_tile;
  const std::int32_t oy0 = std::int32_t(t / job.tiles_x) * tile_y, ox0 = std::int32_t(t % job.tiles_x) * kTileX;
  const std::int32_t out_y = min(tile_y, job.oh - oy0), out_x = min(kTileX, job.ow - ox0);

  // The taps of the tile's columns (warp 0) and rows (warp 1), and the input rows those read;
  // a pixel outside the resized grid (center_crop's padding) or past the image's edge gets
  // none, so it sums to 0 as in the direct kernel.
  const auto entry = [&](std::int32_t i, bool column) -> std::int32_t {
    const std::int32_t g = column ? job.left + ox0 + i : job.top + oy0 + i;
    const bool inside = i < (column ? out_x : out_y) && g >= 0 && g < (column ? job.rw : job.rh);
    return inside ? (column ? job.taps_x : job.taps_y) + g : -1;
  };
  if (warp < 2) {
    const bool column = warp == 0;
    const std::int32_t e = entry(lane, column);
    const std::int32_t s = e < 0 ? 0 : starts[e], n = e < 0 ? 0 : counts[e];
    if (column) {
      xs[lane] = s, xn[lane] = n;
    } else {
      if (lane < tile_y) ys[lane] = s, yn[lane] = n;
      const std::int32_t first = warp_reduce<true>(n > 0 ? s : INT_MAX), last = warp_reduce<false>(n > 0 ? s + n : 0);
      if (lane == 0) span[0] = first, span[1] = max(last - first, 0);
    }
  }
  for (std::int64_t k = tid; k < (kTileX + tile_y) * stride; k += kTiledThreads) {
    const std::int32_t i = std::int32_t(k / stride), j = std::int32_t(k % stride);
    const std::int32_t e = i < kTileX ? entry(i, true) : entry(i - kTileX, false);
    xw[i * pitch + j] = e < 0 ? Acc(0) : weights[e * stride + j];
  }
  __syncthreads();
  const std::int32_t y0 = span[0], ny = span[1];
  const In* in = static_cast<const In*>(job.in);

  // Horizontal: rows[c][r][lane] = sum_j w[j] * in(c, y0 + r, xs + j), a warp per input row,
  // two rows at a time and the window unrolled, so that many loads are in flight. (ncu on the
  // H100: the kernel is bound by instruction issue, not by memory; staging the rows with
  // cp.async, or compile-time strides, did not pay: bench/RESULTS.md.)
  {
    const Acc* w = xw + lane * pitch;
    const std::int32_t n = xn[lane];
    for (std::int32_t r = warp; r < ny; r += 2 * kWarps) {
      const bool second = r + kWarps < ny;
      const In* a = in + (y0 + r) * job.in_sy + xs[lane] * job.in_sx;
      const In* b = second ? a + kWarps * job.in_sy : a;
      Acc sa[C] = {}, sb[C] = {};
#pragma unroll 4
      for (std::int32_t j = 0; j < n; ++j) {
        const Acc wj = w[j];
#pragma unroll
        for (int c = 0; c < C; ++c) {
          const std::int64_t k = j * job.in_sx + c * job.in_sc;
          sa[c] = madd(wj, to_acc(a[k], Acc()), sa[c]);
          sb[c] = madd(wj, to_acc(b[k], Acc()), sb[c]);
        }
      }
#pragma unroll
      for (int c = 0; c < C; ++c) {
        rows[(c * span_y + r) * kTileX + lane] = sa[c];
        if (second) rows[(c * span_y + r + kWarps) * kTileX + lane] = sb[c];
      }
    }
  }
  __syncthreads();

  // Vertical: out(c, oy, ox) = sum_i w[i] * rows[c][ys - y0 + i][lane], a warp per output row.
  for (std::int32_t oy = warp; oy < out_y; oy += kWarps) {
    if (lane >= out_x) continue;
    const Acc* w = yw + oy * pitch;
    const std::int32_t n = yn[oy], s = ys[oy] - y0;
    Acc acc[C] = {};
    for (std::int32_t i = 0; i < n; ++i) {
#pragma unroll
      for (int c = 0; c < C; ++c) acc[c] = madd(w[i], rows[(c * span_y + s + i) * kTileX + lane], acc[c]);
    }
#pragma unroll
    for (int c = 0; c < C; ++c) store(job, c, oy0 + oy, ox0 + lane, acc[c]);
  }
}

/// The widest input span that `tile` consecutive outputs of one axis read: the outputs
/// [0, outputs) sit at offset + o in a grid of `grid` entries starting at `first`. The
/// windows rise (the tiled kernel takes only tables whose windows do), so a tile's span runs
/// from its first window's start to its last one's end.
template <typename Acc>
std::int32_t widest_span(const TapTable<Acc>& table, std::int32_t first, std::int32_t grid, std::int32_t offset,
                         std::int32_t outputs, std::int32_t tile) {
  std::int32_t widest = 0;
  for (std::int32_t o0 = 0; o0 < outputs; o0 += tile) {
    const std::int32_t g0 = std::max(offset + o0, 0), g1 = std::min(offset + std::min(outputs, o0 + tile), grid);
    if (g0 < g1)
      widest = std::max(widest, table.start[first + g1 - 1] + table.count[first + g1 - 1] - table.start[first + g0]);
  }
  return widest;
}

/// Which kernel resamples a batch: the tiled one where its rows fit in shared memory, else the
/// direct one; TVX_RESIZE_KERNEL=direct forces the direct one (for benchmarks and tests).
inline bool tiled_allowed() {
  const char* v = std::getenv("TVX_RESIZE_KERNEL");
  if (v == nullptr || *v == '\0' || std::strcmp(v, "tiled") == 0) return true;
  TORCH_CHECK(std::strcmp(v, "direct") == 0, "TVX_RESIZE_KERNEL: expected direct or tiled, got ", v);
  return false;
}

/// Resamples every job (all with `channels` channels): out = store(c, y, x, sum), in one launch
/// (tiled) or one per 65535 images (direct). `separable` is false for the nearest modes, which
/// read one pixel per output and take the direct kernel (as does a table whose windows do not
/// rise, which no current rule makes).
template <typename In, typename Acc, typename Store>
void resample_batch(std::vector<Job>& jobs, TapTable<Acc>& table, std::int32_t channels, bool separable,
                    Store store) {
  if (jobs.empty()) return;
  // The tiled kernel's tile height: the tallest whose row sums fit in shared memory. (A batch
  // repeats one job's sizes: each is measured once.)
  std::int32_t tile_y = 0, span_y = 0;
  std::size_t bytes = 0;
  const bool allowed = tiled_allowed();
  if (separable && table.monotonic && (channels == 1 || channels == 3 || channels == 4) && allowed) {
    for (std::int32_t ty = kMaxTileY; ty >= 1 && tile_y == 0; ty /= 2) {
      std::int32_t widest = 0;
      const Job* last = nullptr;
      for (const Job& j : jobs) {
        if (last && j.taps_y == last->taps_y && j.rh == last->rh && j.top == last->top && j.oh == last->oh) continue;
        widest = std::max(widest, widest_span(table, j.taps_y, j.rh, j.top, j.oh, ty));
        last = &j;
      }
      const std::size_t need =
          (std::size_t(kTileX + ty) * shared_pitch(table.stride) + std::size_t(channels) * widest * kTileX) * sizeof(Acc);
      if (need <= kTiledSharedBytes) tile_y = ty, span_y = widest, bytes = need;
    }
  }
  std::int64_t tiles = 0, max_pixels = 0, uniform_tiles = -1;
  for (Job& j : jobs) {
    max_pixels = std::max<std::int64_t>(max_pixels, std::int64_t(j.oh) * j.ow);
    if (tile_y == 0) continue;
    j.tiles_x = std::int32_t(core::cuda::ceil_div<std::int64_t>(j.ow, kTileX));
    j.first_tile = tiles;
    const std::int64_t n = std::int64_t(j.tiles_x) * core::cuda::ceil_div<std::int64_t>(j.oh, tile_y);
    tiles += n;
    uniform_tiles = uniform_tiles == -1 || uniform_tiles == n ? n : 0;
  }
  if (tiles >= (std::int64_t(1) << 31)) tile_y = 0;  // more tiles than one launch's blocks: direct
  const auto plan = upload(jobs, table);
  const auto* w = static_cast<const Acc*>(plan.weights);
  if (tile_y > 0) {
    const auto go = [&](auto kernel) {
      core::cuda::launch(kernel, dim3(unsigned(tiles)), kTiledThreads, bytes, plan.jobs, std::int32_t(jobs.size()),
                         uniform_tiles, plan.start, plan.count, w, plan.stride, tile_y, span_y, store);
    };
    switch (channels) {
      case 1: go(resample_tiled<1, In, Acc, Store>); break;
      case 3: go(resample_tiled<3, In, Acc, Store>); break;
      default: go(resample_tiled<4, In, Acc, Store>);
    }
    return;
  }
  constexpr int kThreads = 256;
  constexpr std::int64_t kMaxY = 65535;  // images per launch (gridDim.y)
  const std::int64_t n = std::int64_t(jobs.size());
  for (std::int64_t first = 0; first < n; first += kMaxY) {
    const dim3 grid(core::cuda::blocks_for(max_pixels, kThreads, 4), static_cast<unsigned>(std::min(kMaxY, n - first)));
    const Job* j = plan.jobs + first;
    switch (channels) {
      case 1: core::cuda::launch(resample2d<1, In, Acc, Store>, grid, kThreads, 0, j, plan.start, plan.count, w, plan.stride, channels, store); break;
      case 3: core::cuda::launch(resample2d<3, In, Acc, Store>, grid, kThreads, 0, j, plan.start, plan.count, w, plan.stride, channels, store); break;
      case 4: core::cuda::launch(resample2d<4, In, Acc, Store>, grid, kThreads, 0, j, plan.start, plan.count, w, plan.stride, channels, store); break;
      default: core::cuda::launch(resample2d<0, In, Acc, Store>, grid, kThreads, 0, j, plan.start, plan.count, w, plan.stride, channels, store);
    }
  }
}

}  // namespace tvx::transforms::cuda_resize
