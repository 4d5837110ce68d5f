// deform_conv2d's kernels on CUDA: float32, float64, and float16/bfloat16 read natively and
// computed in float32. Channels last: the columns are [images * HW, groups, K, C / groups],
// and a warp takes one sample (image, tap, output pixel, offset group), its lanes the group's
// channels 32 at a time, so that its column loads and stores are contiguous, and so are its
// input loads and atomics (the driver hands the input in channels_last memory; the kernels
// read it through its strides). torchvision's kernels are channels first, where a warp's
// samples scatter over the image.
// - im2col: each lane interpolates its channels at the warp's sample.
// - col2im, one pass: the input's gradient (atomics into a float32/float64 buffer, a warp's
//   32 to consecutive addresses), and the offset's and mask's gradients summed over each
//   lane's channels, then over the warp by shuffles in a fixed order: always deterministic.
//   (torchvision runs two kernels, the second one thread per offset value looping over every
//   channel.)
// - Under torch.use_deterministic_algorithms(True) the input's gradient goes through the
//   ordered scatter of core/ordered_scatter.cuh instead of atomics: bitwise reproducible.
#include <ATen/Context.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/sum.h>

#include <limits>

#include "core/cuda.cuh"
#include "core/ordered_scatter.cuh"
#include "core/registration.h"
#include "ops/deform_conv/deform_conv.h"

namespace tvx::ops::deform_conv {
namespace {

namespace cu = tvx::core::cuda;

constexpr int kThreads = 256;

// Sizes the kernels index with.
struct Layout {
  std::int64_t groups, group_width;  // weight groups and their channels
  std::int64_t columns;              // images * HW
  std::int64_t sn, sc, sh, sw;       // the input's strides (and grad_input's)
};

Layout layout_of(const Geometry& g, std::int64_t groups, const at::Tensor& input) {
  return Layout{groups, g.channels / groups, g.batch * g.plane(), input.stride(0), input.stride(1), input.stride(2),
                input.stride(3)};
}

// Work item i = ((column * K + k) * OG + og) * 32 + lane: a warp per sample.
template <typename index_t>
struct Item {
  index_t column, k, og, lane, b, pixel;
  __device__ Item(index_t i, const Geometry& g, index_t hw) {
    lane = i % 32;
    index_t t = i / 32;
    og = t % static_cast<index_t>(g.offset_groups);
    t /= static_cast<index_t>(g.offset_groups);
    k = t % static_cast<index_t>(g.taps());
    column = t / static_cast<index_t>(g.taps());
    b = column / hw;
    pixel = column - b * hw;
  }
  // Offset of channel c of this sample in the columns [columns, groups, K, group_width].
  __device__ std::int64_t column_offset(const Geometry& g, const Layout& l, std::int64_t c) const {
    return ((std::int64_t(column) * l.groups + c / l.group_width) * g.taps() + k) * l.group_width + c % l.group_width;
  }
};

template <typename scalar_t, typename index_t>
__global__ void im2col_kernel(Geometry g, Layout l, const scalar_t* __restrict__ input,
                              const scalar_t* __restrict__ offset, const scalar_t* __restrict__ mask,
                              scalar_t* __restrict__ columns, index_t total) {
  using T = at::opmath_type<scalar_t>;
  const index_t hw = static_cast<index_t>(g.plane());
  const std::int64_t cpg = g.group_channels();
  for (std::int64_t i64 : cu::grid_stride(total)) {
    const Item<index_t> it(static_cast<index_t>(i64), g, hw);
    const Sample<T> s = sample_at<T>(g, offset, mask, it.b, it.og, it.k, it.pixel);
    const Corners<T> cr = corners(s.y, s.x, g.height, g.width, l.sh, l.sw);
    const scalar_t* image = input + std::int64_t(it.b) * l.sn;
    for (std::int64_t c = it.og * cpg + it.lane; c < (it.og + 1) * cpg; c += 32) {
      T value = 0;
      if (cr.inside) {
        T v[4];
        corner_values(cr, image + c * l.sc, v);
        value = s.mask * interpolate(cr, v);
      }
      columns[it.column_offset(g, l, c)] = static_cast<scalar_t>(value);
    }
  }
}

template <typename T>
__device__ inline T warp_sum(T v) {
#pragma unroll
  for (int d = 16; d > 0; d /= 2) v += __shfl_down_sync(0xffffffffu, v, d);
  return v;
}

// grad_offset [batch, OG * K * 2, HW] and grad_mask [batch, OG * K, HW] (null without a mask)
// in the accumulation type; grad_input null when the ordered scatter adds it instead. Every
// lane of a warp runs every iteration (total is a multiple of 32).
template <typename scalar_t, typename index_t>
__global__ void col2im_kernel(Geometry g, Layout l, const scalar_t* __restrict__ grad_columns,
                              const scalar_t* __restrict__ input, const scalar_t* __restrict__ offset,
                              const scalar_t* __restrict__ mask, at::opmath_type<scalar_t>* __restrict__ grad_input,
                              at::opmath_type<scalar_t>* __restrict__ grad_offset,
                              at::opmath_type<scalar_t>* __restrict__ grad_mask, index_t total) {
  using T = at::opmath_type<scalar_t>;
  const index_t hw = static_cast<index_t>(g.plane());
  const std::int64_t cpg = g.group_channels();
  for (std::int64_t i64 : cu::grid_stride(total)) {
    const Item<index_t> it(static_cast<index_t>(i64), g, hw);
    const Sample<T> s = sample_at<T>(g, offset, mask, it.b, it.og, it.k, it.pixel);
    const Corners<T> cr = corners(s.y, s.x, g.height, g.width, l.sh, l.sw);
    T mw[4];  // the input's gradient weights
#pragma unroll
    for (int q = 0; q < 4; ++q) mw[q] = s.mask * corner_weight(cr, q);
    T gy = 0, gx = 0, gm = 0;
    for (std::int64_t c = it.og * cpg + it.lane; c < (it.og + 1) * cpg; c += 32) {
      const T grad = static_cast<T>(grad_columns[it.column_offset(g, l, c)]);
      const std::int64_t plane = std::int64_t(it.b) * l.sn + c * l.sc;
      T v[4];
      corner_values(cr, input + plane, v);
      gy += s.mask * d_dy(cr, v) * grad;
      gx += s.mask * d_dx(cr, v) * grad;
      gm += grad * interpolate(cr, v);
      if (grad_input != nullptr && cr.inside) {
#pragma unroll
        for (int q = 0; q < 4; ++q)
          if ((cr.valid >> q) & 1u) atomicAdd(grad_input + plane + cr.offset[q], mw[q] * grad);
      }
    }
    gy = warp_sum(gy);
    gx = warp_sum(gx);
    gm = warp_sum(gm);
    if (it.lane == 0) {
      const std::int64_t bogk = (std::int64_t(it.b) * g.offset_groups + it.og) * g.taps() + it.k;
      grad_offset[2 * bogk * hw + it.pixel] = gy;
      grad_offset[(2 * bogk + 1) * hw + it.pixel] = gx;
      if (grad_mask != nullptr) grad_mask[bogk * hw + it.pixel] = gm;
    }
  }
}

// The deterministic path's entries, 4 corners per (sample, block of channels within one offset
// group and one weight group), in sample order. key: (b * blocks + block) * H * W + corner
// pixel (-1 for none); source: the block's first channel in the columns.
template <typename scalar_t, typename key_t>
__global__ void entries_kernel(Geometry g, Layout l, std::int64_t block_width, const scalar_t* __restrict__ offset,
                               const scalar_t* __restrict__ mask, key_t* __restrict__ key,
                               std::int64_t* __restrict__ source, at::opmath_type<scalar_t>* __restrict__ weight,
                               std::int64_t total) {
  using T = at::opmath_type<scalar_t>;
  const std::int64_t hw = g.plane(), in_plane = g.height * g.width, taps = g.taps();
  const std::int64_t per_group = g.group_channels() / block_width, blocks = g.channels / block_width;
  for (std::int64_t i : cu::grid_stride(total)) {
    const std::int64_t local = i % per_group, sample = i / per_group;  // sample = ((b * OG + og) * K + k) * HW + p
    const std::int64_t pixel = sample % hw, k = (sample / hw) % taps, og = (sample / hw / taps) % g.offset_groups;
    const std::int64_t b = sample / hw / taps / g.offset_groups;
    const Sample<T> s = sample_at<T>(g, offset, mask, b, og, k, pixel);
    const Corners<T> cr = corners(s.y, s.x, g.height, g.width, g.width, 1);  // keys hold y * W + x
    const std::int64_t block = og * per_group + local, c0 = block * block_width, column = b * hw + pixel;
    const std::int64_t src = ((column * l.groups + c0 / l.group_width) * taps + k) * l.group_width + c0 % l.group_width;
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const bool ok = cr.inside && ((cr.valid >> q) & 1u);
      key[4 * i + q] = ok ? static_cast<key_t>((b * blocks + block) * in_plane + cr.offset[q]) : key_t(-1);
      source[4 * i + q] = src;
      weight[4 * i + q] = s.mask * corner_weight(cr, q);
    }
  }
}

template <typename Launch>
void with_index(std::int64_t total, Launch&& launch) {
  if (total <= std::numeric_limits<std::int32_t>::max())
    launch(std::int32_t{});
  else
    launch(std::int64_t{});
}

void im2col(const Geometry& g, std::int64_t groups, const at::Tensor& input, const at::Tensor& offset,
            const at::Tensor& mask, at::Tensor& columns) {
  const Layout l = layout_of(g, groups, input);
  const std::int64_t total = g.samples() * 32;
  if (total == 0 || g.channels == 0) return;
  cu::DeviceGuard guard(input);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "tvx_deform_im2col_cuda", [&] {
    with_index(total, [&](auto index) {
      using index_t = decltype(index);
      cu::launch(im2col_kernel<scalar_t, index_t>, cu::blocks_for(total, kThreads), kThreads, 0, g, l,
                 input.const_data_ptr<scalar_t>(), offset.const_data_ptr<scalar_t>(), data_or_null<scalar_t>(mask),
                 columns.data_ptr<scalar_t>(), static_cast<index_t>(total));
    });
  });
}

void col2im(const Geometry& g, std::int64_t groups, const at::Tensor& grad_columns, const at::Tensor& input,
            const at::Tensor& offset, const at::Tensor& mask, at::Tensor& grad_input, at::Tensor& grad_offset,
            at::Tensor& grad_mask) {
  const Layout l = layout_of(g, groups, input);
  const std::int64_t samples = g.samples(), total = samples * 32;
  if (samples == 0) return;
  if (g.channels == 0) {
    grad_offset.zero_();
    if (g.use_mask) grad_mask.zero_();
    return;
  }
  cu::DeviceGuard guard(input);
  const bool ordered = at::globalContext().deterministicAlgorithms();
  const at::ScalarType acc = grad_input.scalar_type();
  // The offset's and mask's gradients in the accumulation type (rounded after, for
  // float16/bfloat16).
  const bool direct = grad_offset.scalar_type() == acc;
  at::Tensor goff = direct ? grad_offset : at::empty(grad_offset.sizes(), grad_input.options());
  at::Tensor gmask;
  if (g.use_mask) gmask = direct ? grad_mask : at::empty(grad_mask.sizes(), grad_input.options());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "tvx_deform_col2im_cuda", [&] {
    using T = at::opmath_type<scalar_t>;
    with_index(total, [&](auto index) {
      using index_t = decltype(index);
      // Blocks of whole warps, and a grid-stride step that is a multiple of 32.
      cu::launch(col2im_kernel<scalar_t, index_t>, cu::blocks_for(total, kThreads), kThreads, 0, g, l,
                 grad_columns.const_data_ptr<scalar_t>(), input.const_data_ptr<scalar_t>(),
                 offset.const_data_ptr<scalar_t>(), data_or_null<scalar_t>(mask),
                 ordered ? nullptr : grad_input.data_ptr<T>(), goff.data_ptr<T>(),
                 g.use_mask ? gmask.data_ptr<T>() : nullptr, static_cast<index_t>(total));
    });
    if (ordered) {
      const std::int64_t blocks = scatter_groups(g, groups), width = g.channels / blocks;
      const std::int64_t items = samples * (g.group_channels() / width), entries = items * 4;
      const bool small_keys = g.batch * blocks * g.height * g.width < std::numeric_limits<std::int32_t>::max();
      core::cuda::Entries e{at::empty({entries}, grad_input.options().dtype(small_keys ? at::kInt : at::kLong)),
                            at::empty({entries}, grad_input.options().dtype(at::kLong)),
                            at::empty({entries}, grad_input.options())};
      AT_DISPATCH_INDEX_TYPES(e.key.scalar_type(), "tvx_deform_entries", [&] {
        cu::launch(entries_kernel<scalar_t, index_t>, cu::blocks_for(items, kThreads), kThreads, 0, g, l, width,
                   offset.const_data_ptr<scalar_t>(), data_or_null<scalar_t>(mask), e.key.data_ptr<index_t>(),
                   e.source.data_ptr<std::int64_t>(), e.weight.data_ptr<T>(), items);
      });
      // Key (b * blocks + block, pixel): channel block * width + j of image b, either layout.
      const bool cl = grad_input.is_contiguous(at::MemoryFormat::ChannelsLast) && !grad_input.is_contiguous();
      core::cuda::scatter_entries(e, grad_columns, /*grad_channel_stride=*/1, grad_input, cl ? blocks : 1, width,
                                  /*accumulate=*/false, cl);
    }
  });
  if (!direct) {
    grad_offset.copy_(goff);
    if (g.use_mask) grad_mask.copy_(gmask);
  }
}

}  // namespace

TVX_LIBRARY_IMPL(CUDA, m) { Backend</*ChannelsLast=*/true, &im2col, &col2im>::define(m); }

}  // namespace tvx::ops::deform_conv
