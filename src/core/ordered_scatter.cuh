// A deterministic scatter-add for CUDA backward passes: grad_input[dest] += weight * grad[src]
// over lists of entries, bitwise reproducible and without atomics.
//
// A backward pass that adds weighted output gradients into input pixels usually does so with
// atomics, and then the order of the additions (so the float sum) changes run to run. Here
// an op lists its contributions as entries (destination key, source offset, weight), the
// entries are stable-sorted by key (equal keys keep the op's order), and each (destination,
// channel) sums its run in that fixed order. The temporaries grow with the entries, not
// with the gradient's size. Used by the roi family and deform_conv2d.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace tvx::core::cuda {

/// Entries of one call. key: ((n * groups + g) * H * W + pixel), or -1 for none; int32 when
/// every key fits, else int64. source: int64, the offset in grad of the entry's channel 0.
/// weight: float32 for float16/bfloat16 grads, else grad's dtype.
struct Entries {
  at::Tensor key, source, weight;
};

/// grad_input[n, j * groups + g, pixel] (+)= sum over the entries of key (n, g, pixel), in
/// order, of weight * grad[source + j * grad_channel_stride], for j in [0, group_channels).
/// grad: contiguous. grad_input: contiguous [N, C, H, W], float32 for float16/bfloat16 grads
/// (rounded by the caller), else grad's dtype. accumulate: add to grad_input, else write
/// (destinations without entries are left as they are). channels_last: grad_input's memory
/// is [N, H, W, groups, group_channels] and channel j of group g is g * group_channels + j.
void scatter_entries(const Entries& entries, const at::Tensor& grad, std::int64_t grad_channel_stride,
                     at::Tensor& grad_input, std::int64_t groups, std::int64_t group_channels, bool accumulate,
                     bool channels_last = false);

}  // namespace tvx::core::cuda
