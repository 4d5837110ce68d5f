// The roi family's CUDA helpers, shared by its four ops: the forward kernels' work items and
// the backward's chunks. The backward adds into input pixels through core's deterministic
// scatter (core/ordered_scatter.cuh): each op lists its contributions as entries (samples x
// 4 corners), taken in chunks of RoIs so that the temporaries stay below half the size of
// grad_input, not N*C*H*W. Include only from the family's .cu files.
#pragma once

#include <ATen/core/Tensor.h>

#include "core/ordered_scatter.cuh"

#include <cstdint>
#include <type_traits>
#include <vector>

namespace tvx::ops::roi::cuda {

/// What a forward kernel knows of its tensors.
struct Shape {
  std::int64_t n, h, w, sn, sc, sh, sw;  // input sizes and strides
  std::int64_t k, c_out, ph, pw;        // output
};

/// Work item i = (RoI r, bin (ph, pw), channels c0 .. c0 + CPT - 1): the geometry is computed
/// once for CPT channels, whose loads are independent (more in flight). roi_align takes 4
/// (measured 1.4x faster than 1 on an H100); the ops whose channels lie a bin apart, or that
/// loop over whole bins, take 1.
template <int CPT, typename index_t, bool PS, bool ChannelsLast>
__device__ inline void work_item(index_t i, const Shape& s, index_t& r, index_t& c0, index_t& ph, index_t& pw) {
  const index_t blocks = (s.c_out + CPT - 1) / CPT;
  index_t cb;
  if constexpr (ChannelsLast) {  // neighbouring threads: neighbouring channels
    cb = i % blocks;
    const index_t t = i / blocks;
    pw = t % s.pw;
    ph = (t / s.pw) % s.ph;
    r = t / s.pw / s.ph;
  } else if constexpr (PS) {  // each input channel for all RoIs, then the next channels
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
