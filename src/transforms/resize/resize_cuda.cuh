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

#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>

#include <cstdint>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <tuple>
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
  std::int32_t tiles_x;                 // the tiled kernels: tiles per output row,
  std::int32_t words;                   // whether uint8 rows may be read as aligned 4-byte words,
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
  std::map<std::pair<std::int64_t, std::int64_t>, std::int32_t> seen;
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

/// The jobs and the table on the device: one pinned host buffer, one asynchronous copy on
/// the current stream (the caching host allocator keeps the buffer until the copy is done).
struct DevicePlan {
  at::Tensor buffer;  // keeps the device copy alive for the kernel
  const Job* jobs;
  const std::int32_t* start;
  const std::int32_t* count;
  const void* weights;
  std::int64_t stride;
};

template <typename Acc>
DevicePlan upload(const std::vector<Job>& jobs, TapTable<Acc>& table, c10::Device device) {
  table.finish();
  const auto align = [](std::size_t n) { return (n + 15) / 16 * 16; };
  const std::size_t jb = align(jobs.size() * sizeof(Job)), sb = align(table.start.size() * sizeof(std::int32_t));
  const std::size_t wb = table.weights.size() * sizeof(Acc);
  at::Tensor host = at::empty({std::int64_t(jb + 2 * sb + wb)}, at::TensorOptions().dtype(at::kByte).pinned_memory(true));
  auto* h = host.mutable_data_ptr<std::uint8_t>();
  std::memcpy(h, jobs.data(), jobs.size() * sizeof(Job));
  std::memcpy(h + jb, table.start.data(), table.start.size() * sizeof(std::int32_t));
  std::memcpy(h + jb + sb, table.count.data(), table.count.size() * sizeof(std::int32_t));
  std::memcpy(h + jb + 2 * sb, table.weights.data(), wb);
  DevicePlan plan;
  plan.buffer = host.to(device, /*non_blocking=*/true);
  const auto* d = plan.buffer.const_data_ptr<std::uint8_t>();
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
          for (int c = 0; c < kLanes; ++c) sum[c] += wx[j] * to_acc(row[j * job.in_sx + c * job.in_sc], Acc());
        }
#pragma unroll
        for (int c = 0; c < kLanes; ++c) acc[c] += wy[i] * sum[c];
      }
#pragma unroll
      for (int c = 0; c < kLanes; ++c) store(job, c0 + c, oy, ox, acc[c]);
    }
  }
}

// The tiled kernel: a block makes a tile of kTileX x tile_y output pixels of one image, all
// channels, in two passes through shared memory. The horizontal pass sums each input row of
// the tile's vertical span over each output column's window into `rows` (a warp per input
// row, a lane per output column); the vertical pass weighs those row sums into the outputs.
// Each product and sum is the direct kernel's, in its order (so both give the same bits),
// but a row sum serves every output of the tile that reads its row instead of being
// recomputed for each. The staged form first copies the row's span into its warp's buffer,
// coalesced (4 bytes a lane for uint8 rows that allow it), every channel's loads in flight at
// once; the other reads the input through the L1 cache, for spans too wide to stage.
constexpr int kTileX = 32;  // a warp's lanes: output columns
constexpr int kMaxTileY = 16;
constexpr int kTiledThreads = 256;
constexpr int kWarps = kTiledThreads / 32;
constexpr std::size_t kTiledSharedBytes = 48 * 1024 - 512;  // dynamic, beside the static taps, without the opt-in

template <bool kMin>
__device__ __forceinline__ std::int32_t warp_reduce(std::int32_t v) {
#pragma unroll
  for (int d = 16; d > 0; d /= 2) {
    const std::int32_t o = __shfl_xor_sync(0xffffffffu, v, d);
    v = kMin ? min(v, o) : max(v, o);
  }
  return v;
}

/// Copies src[k * step], k < n, to dst[k] (shared), the warp's lanes together; loads first,
/// into registers, so that a run's loads are in flight at once. With `words` (uint8, step 1,
/// src's row 4-byte aligned at both ends), aligned 4-byte words: dst then starts at the byte
/// src & 3, which the return value gives.
template <typename In>
__device__ __forceinline__ std::int32_t warp_copy(const In* src, std::int64_t step, std::int32_t n, In* dst,
                                                  bool words, int lane) {
  constexpr int kPerLane = 4;
  if constexpr (sizeof(In) == 1) {
    if (words) {
      const auto skew = std::int32_t(reinterpret_cast<std::uintptr_t>(src) & 3);
      const auto* w = reinterpret_cast<const std::uint32_t*>(src - skew);
      auto* d = reinterpret_cast<std::uint32_t*>(dst);
      const std::int32_t count = (skew + n + 3) / 4;
      for (std::int32_t base = 0; base < count; base += 32 * kPerLane) {
        std::uint32_t v[kPerLane];
#pragma unroll
        for (int k = 0; k < kPerLane; ++k)
          if (base + k * 32 + lane < count) v[k] = w[base + k * 32 + lane];
#pragma unroll
        for (int k = 0; k < kPerLane; ++k)
          if (base + k * 32 + lane < count) d[base + k * 32 + lane] = v[k];
      }
      return skew;
    }
  }
  for (std::int32_t base = 0; base < n; base += 32 * kPerLane) {
    In v[kPerLane];
#pragma unroll
    for (int k = 0; k < kPerLane; ++k)
      if (base + k * 32 + lane < n) v[k] = src[(base + k * 32 + lane) * step];
#pragma unroll
    for (int k = 0; k < kPerLane; ++k)
      if (base + k * 32 + lane < n) dst[base + k * 32 + lane] = v[k];
  }
  return 0;
}

/// The staged kernel's buffer per warp holds C runs of this many elements (planar rows) or one
/// run of C times as many (interleaved): span_x and the word copy's skew, in whole words.
__host__ __device__ constexpr std::int32_t run_length(std::int32_t span_x) { return (span_x + 7) / 4 * 4; }

template <int C, bool kStage, typename In, typename Acc, typename Store>
__global__ void __launch_bounds__(kTiledThreads)
    resample_tiled(const Job* __restrict__ jobs, std::int32_t njobs, std::int64_t uniform_tiles,
                   const std::int32_t* __restrict__ starts, const std::int32_t* __restrict__ counts,
                   const Acc* __restrict__ weights, std::int64_t stride, std::int32_t tile_y, std::int32_t span_x,
                   std::int32_t span_y, Store store) {
  extern __shared__ __align__(16) unsigned char shared[];
  __shared__ std::int32_t xs[kTileX], xn[kTileX], ys[kMaxTileY], yn[kMaxTileY], span[4];
  Acc* xw = reinterpret_cast<Acc*>(shared);  // [kTileX][stride]: the columns' weights
  Acc* yw = xw + kTileX * stride;            // [tile_y][stride]: the rows'
  Acc* rows = yw + tile_y * stride;          // [C][span_y][kTileX]: the row sums
  In* buffers = reinterpret_cast<In*>(rows + C * span_y * kTileX);  // [kWarps][C][run_length]

  // The job whose tiles hold this block: every job's tile count, or the last job that starts
  // at or before the block.
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
  const Job job = jobs[lo];
  const std::int64_t t = tile - job.first_tile;
  const std::int32_t oy0 = std::int32_t(t / job.tiles_x) * tile_y, ox0 = std::int32_t(t % job.tiles_x) * kTileX;
  const std::int32_t out_y = min(tile_y, job.oh - oy0), out_x = min(kTileX, job.ow - ox0);
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;

  // The taps of the tile's columns (warp 0) and rows (warp 1), and the input span they read;
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
    if (column) xs[lane] = s, xn[lane] = n;
    else if (lane < tile_y) ys[lane] = s, yn[lane] = n;
    const std::int32_t first = warp_reduce<true>(n > 0 ? s : INT_MAX), last = warp_reduce<false>(n > 0 ? s + n : 0);
    if (lane == 0) span[2 * warp] = first, span[2 * warp + 1] = max(last - first, 0);
  }
  for (std::int64_t k = tid; k < (kTileX + tile_y) * stride; k += kTiledThreads) {
    const std::int32_t i = std::int32_t(k / stride);
    const std::int32_t e = i < kTileX ? entry(i, true) : entry(i - kTileX, false);
    xw[k] = e < 0 ? Acc(0) : weights[e * stride + k % stride];
  }
  __syncthreads();
  const std::int32_t x0 = span[0], nx = span[1], y0 = span[2], ny = span[3];
  const In* in = static_cast<const In*>(job.in);

  // Horizontal: rows[c][r][lane] = sum_j w[j] * in(c, y0 + r, xs + j), a warp per input row.
  {
    const Acc* w = xw + lane * stride;
    const std::int32_t n = xn[lane], s = xs[lane];
    In* buffer = buffers + warp * C * run_length(span_x);
    const bool interleaved = C > 1 && job.in_sc == 1 && job.in_sx == C;
    for (std::int32_t r = warp; r < ny; r += kWarps) {
      const In* row = in + (y0 + r) * job.in_sy;
      // Where channel c's pixel x0 + k is: at[c] + k * step.
      const In* at[C];
      std::int64_t step;
      if constexpr (kStage) {
        __syncwarp();  // the previous row's reads of the buffer are done
        if (interleaved) {
          const std::int32_t skew = warp_copy(row + x0 * C, 1, C * nx, buffer, job.words != 0, lane);
#pragma unroll
          for (int c = 0; c < C; ++c) at[c] = buffer + skew + c;
          step = C;
        } else {
#pragma unroll
          for (int c = 0; c < C; ++c) {
            In* dst = buffer + c * run_length(span_x);
            at[c] = dst + warp_copy(row + c * job.in_sc + x0 * job.in_sx, job.in_sx, nx, dst, job.words != 0, lane);
          }
          step = 1;
        }
        __syncwarp();
      } else {
#pragma unroll
        for (int c = 0; c < C; ++c) at[c] = row + c * job.in_sc + x0 * job.in_sx;
        step = job.in_sx;
      }
      Acc sum[C] = {};
      for (std::int32_t j = 0; j < n; ++j) {
        const std::int64_t k = (s - x0 + j) * step;
#pragma unroll
        for (int c = 0; c < C; ++c) sum[c] += w[j] * to_acc(at[c][k], Acc());
      }
#pragma unroll
      for (int c = 0; c < C; ++c) rows[(c * span_y + r) * kTileX + lane] = sum[c];
    }
  }
  __syncthreads();

  // Vertical: out(c, oy, ox) = sum_i w[i] * rows[c][ys - y0 + i][lane], a warp per output row.
  for (std::int32_t oy = warp; oy < out_y; oy += kWarps) {
    if (lane >= out_x) continue;
    const Acc* w = yw + oy * stride;
    const std::int32_t n = yn[oy], s = ys[oy] - y0;
    Acc acc[C] = {};
    for (std::int32_t i = 0; i < n; ++i) {
#pragma unroll
      for (int c = 0; c < C; ++c) acc[c] += w[i] * rows[(c * span_y + s + i) * kTileX + lane];
    }
#pragma unroll
    for (int c = 0; c < C; ++c) store(job, c, oy0 + oy, ox0 + lane, acc[c]);
  }
}

/// The widest input span that `tile` consecutive outputs of one axis read: the outputs
/// [0, outputs) sit at offset + o in a grid of `grid` entries starting at `first`. A batch's
/// images share their axes, so each is measured once.
template <typename Acc>
struct Spans {
  const TapTable<Acc>& table;
  std::map<std::tuple<std::int32_t, std::int32_t, std::int32_t, std::int32_t, std::int32_t>, std::int32_t> seen;

  std::int32_t widest(std::int32_t first, std::int32_t grid, std::int32_t offset, std::int32_t outputs,
                      std::int32_t tile) {
    const auto key = std::make_tuple(first, grid, offset, outputs, tile);
    if (auto it = seen.find(key); it != seen.end()) return it->second;
    std::int32_t widest = 0;
    for (std::int32_t o0 = 0; o0 < outputs; o0 += tile) {
      std::int32_t lo = INT_MAX, hi = 0;
      for (std::int32_t o = o0; o < std::min(outputs, o0 + tile); ++o) {
        const std::int32_t g = offset + o;
        if (g < 0 || g >= grid) continue;
        lo = std::min(lo, table.start[first + g]);
        hi = std::max(hi, table.start[first + g] + table.count[first + g]);
      }
      widest = std::max(widest, hi - lo);
    }
    return seen[key] = widest;
  }
};

/// Which kernel resamples a batch: TVX_RESIZE_KERNEL=direct|rows|staged caps the choice (for
/// benchmarks and tests of each path); by default the staged tiled kernel where its spans fit
/// in shared memory, else the tiled one that reads through L1, else the direct one.
enum class Kernel { direct, rows, staged };
inline Kernel kernel_cap() {
  const char* v = std::getenv("TVX_RESIZE_KERNEL");
  if (v == nullptr || *v == '\0' || std::strcmp(v, "staged") == 0) return Kernel::staged;
  if (std::strcmp(v, "rows") == 0) return Kernel::rows;
  TORCH_CHECK(std::strcmp(v, "direct") == 0, "TVX_RESIZE_KERNEL: expected direct, rows or staged, got ", v);
  return Kernel::direct;
}

/// Resamples every job (all with `channels` channels) in one launch per 65535 images
/// (direct) or one launch (tiled): out = store(c, y, x, sum). `separable` is false for the
/// nearest modes, which read one pixel per output and take the direct kernel.
template <typename In, typename Acc, typename Store>
void resample_batch(std::vector<Job>& jobs, TapTable<Acc>& table, c10::Device device, std::int32_t channels,
                    bool separable, Store store) {
  if (jobs.empty()) return;
  Kernel kernel = separable && (channels == 1 || channels == 3 || channels == 4) ? kernel_cap() : Kernel::direct;
  // The tiled kernels' tile height: the tallest whose spans fit in shared memory.
  std::int32_t tile_y = 0, span_x = 0, span_y = 0;
  std::size_t bytes = 0;
  if (kernel != Kernel::direct) {
    Spans<Acc> spans{table, {}};
    for (const Job& j : jobs) span_x = std::max(span_x, spans.widest(j.taps_x, j.rw, j.left, j.ow, kTileX));
    for (std::int32_t ty = kMaxTileY; ty >= 1 && tile_y == 0; ty /= 2) {
      std::int32_t sy = 0;
      for (const Job& j : jobs) sy = std::max(sy, spans.widest(j.taps_y, j.rh, j.top, j.oh, ty));
      const std::size_t fixed = std::size_t(kTileX + ty) * table.stride * sizeof(Acc) +
                                std::size_t(channels) * sy * kTileX * sizeof(Acc);
      const std::size_t stage = std::size_t(kWarps) * channels * run_length(span_x) * sizeof(In);
      for (Kernel k : {Kernel::staged, Kernel::rows}) {
        if (k > kernel || tile_y != 0) continue;
        const std::size_t need = fixed + (k == Kernel::staged ? stage : 0);
        if (need <= kTiledSharedBytes) tile_y = ty, span_y = sy, bytes = need, kernel = k;
      }
    }
    if (tile_y == 0) kernel = Kernel::direct;
  }
  std::int64_t tiles = 0, max_pixels = 0, uniform_tiles = -1;
  for (Job& j : jobs) {
    max_pixels = std::max<std::int64_t>(max_pixels, std::int64_t(j.oh) * j.ow);
    if (kernel == Kernel::direct) continue;
    j.tiles_x = std::int32_t(core::cuda::ceil_div<std::int64_t>(j.ow, kTileX));
    j.first_tile = tiles;
    const std::int64_t n = std::int64_t(j.tiles_x) * core::cuda::ceil_div<std::int64_t>(j.oh, tile_y);
    tiles += n;
    uniform_tiles = uniform_tiles == -1 || uniform_tiles == n ? n : 0;
    // Rows that start and end on 4-byte boundaries: the words that hold a row's bytes hold
    // nothing else, so the staged copy may read whole words.
    const auto aligned = [](std::int64_t v) { return v % 4 == 0; };
    const bool planar = j.in_sx == 1, interleaved = j.in_sc == 1 && j.in_sx == channels;
    j.words = sizeof(In) == 1 && reinterpret_cast<std::uintptr_t>(j.in) % 4 == 0 && aligned(j.in_sy) &&
              ((planar && aligned(j.in_sc) && aligned(j.w)) || (interleaved && aligned(std::int64_t(channels) * j.w)));
  }
  const auto plan = upload(jobs, table, device);
  const auto* w = static_cast<const Acc*>(plan.weights);
  if (kernel != Kernel::direct) {
    TORCH_CHECK(tiles < (std::int64_t(1) << 31), "tvx.resize: ", tiles, " tiles exceed one launch");
    const auto go = [&](auto kernel_fn) {
      core::cuda::launch(kernel_fn, dim3(unsigned(tiles)), kTiledThreads, bytes, plan.jobs, std::int32_t(jobs.size()),
                         std::max<std::int64_t>(uniform_tiles, 0), plan.start, plan.count, w, plan.stride, tile_y,
                         span_x, span_y, store);
    };
    const bool staged = kernel == Kernel::staged;
    switch (channels) {
      case 1: staged ? go(resample_tiled<1, true, In, Acc, Store>) : go(resample_tiled<1, false, In, Acc, Store>); break;
      case 3: staged ? go(resample_tiled<3, true, In, Acc, Store>) : go(resample_tiled<3, false, In, Acc, Store>); break;
      default: staged ? go(resample_tiled<4, true, In, Acc, Store>) : go(resample_tiled<4, false, In, Acc, Store>);
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
