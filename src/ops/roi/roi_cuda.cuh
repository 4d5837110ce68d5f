// The roi family's CUDA backward, shared by its four ops: a deterministic scatter-add.
//
// A backward pass adds weighted output gradients into input pixels; many RoIs hit one pixel,
// so torchvision adds with atomics (the order, and so the float sum, changes run to run).
// Here each op lists its contributions as entries (destination key, source offset, weight),
// the entries are sorted by key (stable: equal keys keep the op's order), and one thread per
// (destination, channel) sums its run in that fixed order. Bitwise reproducible, no atomics,
// and the temporaries grow with the entries (samples x 4 corners), not with N*C*H*W: the
// entries are taken in chunks of RoIs so that they stay below the size of grad_input.
// Include only from the family's .cu files.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace tvx::ops::roi::cuda {

/// Entries of one chunk. key: ((n * groups + g) * H * W + pixel), or -1 for none; int32 when
/// every key fits, else int64. source: offset in grad (contiguous) of channel j = 0.
struct Entries {
  at::Tensor key, source, weight;
};

/// grad_input[n, j * groups + g, pixel] (+)= sum over the entries of key (n, g, pixel), in
/// order, of weight * grad[source + j * grad_channel_stride], for j in [0, group_channels).
/// grad_input: contiguous [N, C, H, W], float32 for float16/bfloat16 grads (rounded by the
/// caller), else grad's dtype. The first chunk writes, later ones add (accumulate = true).
void scatter_entries(const Entries& entries, const at::Tensor& grad, at::Tensor& grad_input, std::int64_t groups,
                     std::int64_t group_channels, std::int64_t grad_channel_stride, bool accumulate);

/// RoI ranges [first[i], first[i + 1]) whose entry counts (`counts`, int64 [K] on the
/// device) sum to at most `budget` each (a single RoI may exceed it); also each range's
/// first entry offset. One device-to-host copy.
struct Chunks {
  std::vector<std::int64_t> first_roi, first_entry;
};
Chunks plan_chunks(const at::Tensor& counts, std::int64_t budget);

/// Entries that fit in about grad_input's own size (at least 8 MiB): the temporaries
/// then keep the backward's peak within twice that of an atomic one.
std::int64_t entry_budget(const at::Tensor& grad_input);

}  // namespace tvx::ops::roi::cuda
