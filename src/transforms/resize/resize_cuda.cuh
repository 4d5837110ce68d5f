// resize on CUDA, shared with preprocess: one kernel resamples a batch of images of any sizes
// (one launch, image in blockIdx.y). A thread makes one output pixel, all its channels: for
// each input row of its vertical window it sums the horizontal window (the taps of resize.cpp,
// as ATen computes them for float32), then weighs the row sums by the vertical taps, the
// association of ATen's separable passes. Reads go through the image's strides (planar,
// channels_last or an HWC view), so nothing is copied first; each output value is written
// once. The Store functor turns the float sum into the output: resize's rounding for uint8,
// preprocess's scale-and-normalise.
#pragma once

#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>

#include <cstdint>
#include <cstring>
#include <map>
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
};

/// The job that resamples all of `in` into all of `out` ([C, H, W] views); preprocess then
/// sets the resized grid and the crop.
inline Job make_job(const at::Tensor& in, const at::Tensor& out) {
  Job j{};
  j.in = in.const_data_ptr();
  j.out = out.mutable_data_ptr();
  j.in_sc = in.stride(0), j.in_sy = in.stride(1), j.in_sx = in.stride(2);
  j.out_sc = out.stride(0), j.out_sy = out.stride(1), j.out_sx = out.stride(2);
  j.h = std::int32_t(in.size(1)), j.w = std::int32_t(in.size(2));
  j.oh = std::int32_t(out.size(1)), j.ow = std::int32_t(out.size(2));
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

/// Launches resample2d for `jobs` (all with `channels` channels) with the widest channel
/// specialisation that fits.
template <typename In, typename Acc, typename Store>
void launch(const DevicePlan& plan, std::int64_t jobs, std::int64_t max_pixels, std::int32_t channels, Store store) {
  constexpr int kThreads = 256;
  constexpr std::int64_t kMaxY = 65535;  // images per launch (gridDim.y)
  const auto* w = static_cast<const Acc*>(plan.weights);
  for (std::int64_t first = 0; first < jobs; first += kMaxY) {
    const dim3 grid(core::cuda::blocks_for(max_pixels, kThreads, 4), static_cast<unsigned>(std::min(kMaxY, jobs - first)));
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
