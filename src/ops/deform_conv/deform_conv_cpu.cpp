// deform_conv2d's kernels on the CPU, on all cores. float32/float64, and float16/bfloat16
// computed in float32. Each pass is split so that no two threads write one value, and every
// sum runs in torchvision's order (its kernels are serial loops):
// - im2col over rows (channel, tap, image) of the columns;
// - the input's gradient over (image, channel) planes, each visiting taps then pixels;
// - the offset's and mask's gradients over (image, offset group, tap) and blocks of pixels,
//   each summing its offset group's channels in order.
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <array>

#include "core/registration.h"
#include "ops/deform_conv/deform_conv.h"

namespace tvx::ops::deform_conv {
namespace {

// Work items of at least ~64K multiply-adds per thread's share.
std::int64_t grain(std::int64_t per_item) { return std::max<std::int64_t>(1, 65536 / std::max<std::int64_t>(per_item, 1)); }

void im2col(const Geometry& g, std::int64_t /*groups*/, const at::Tensor& input, const at::Tensor& offset, const at::Tensor& mask,
            at::Tensor& columns) {
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "tvx_deform_im2col_cpu", [&] {
    using T = at::opmath_type<scalar_t>;
    const scalar_t* in = input.const_data_ptr<scalar_t>();
    const scalar_t* off = offset.const_data_ptr<scalar_t>();
    const scalar_t* msk = data_or_null<scalar_t>(mask);
    scalar_t* col = columns.data_ptr<scalar_t>();
    const std::int64_t taps = g.taps(), hw = g.plane(), plane = g.height * g.width, cpg = g.group_channels();
    // Row (c * K + k) of image b: item (c * K + k) * batch + b, HW contiguous values.
    at::parallel_for(0, g.channels * taps * g.batch, grain(hw * 8), [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t item = begin; item < end; ++item) {
        const std::int64_t b = item % g.batch, ck = item / g.batch, c = ck / taps, k = ck % taps;
        const scalar_t* src = in + (b * g.channels + c) * plane;
        scalar_t* dst = col + ck * g.batch * hw + b * hw;
        for (std::int64_t p = 0; p < hw; ++p) {
          const Sample<T> s = sample_at<T>(g, off, msk, b, c / cpg, k, p);
          const Corners<T> cr = corners(s.y, s.x, g.height, g.width, g.width, 1);
          T v[4];
          corner_values(cr, src, v);
          dst[p] = static_cast<scalar_t>(s.mask * interpolate(cr, v));
        }
      }
    });
  });
}

void col2im(const Geometry& g, std::int64_t /*groups*/, const at::Tensor& grad_columns, const at::Tensor& input, const at::Tensor& offset,
            const at::Tensor& mask, at::Tensor& grad_input, at::Tensor& grad_offset, at::Tensor& grad_mask) {
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "tvx_deform_col2im_cpu", [&] {
    using T = at::opmath_type<scalar_t>;
    const scalar_t* in = input.const_data_ptr<scalar_t>();
    const scalar_t* off = offset.const_data_ptr<scalar_t>();
    const scalar_t* msk = data_or_null<scalar_t>(mask);
    const scalar_t* gcol = grad_columns.const_data_ptr<scalar_t>();
    T* gin = grad_input.data_ptr<T>();
    scalar_t* goff = grad_offset.data_ptr<scalar_t>();
    scalar_t* gmsk = g.use_mask ? grad_mask.data_ptr<scalar_t>() : nullptr;
    const std::int64_t taps = g.taps(), hw = g.plane(), plane = g.height * g.width, cpg = g.group_channels();
    const std::int64_t row = g.batch * hw;  // columns row length
    // The input's gradient: plane (b, c) adds its channel's samples, taps then pixels.
    at::parallel_for(0, g.batch * g.channels, grain(taps * hw * 8), [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t item = begin; item < end; ++item) {
        const std::int64_t b = item / g.channels, c = item % g.channels;
        T* dst = gin + item * plane;
        for (std::int64_t k = 0; k < taps; ++k) {
          const scalar_t* gc = gcol + (c * taps + k) * row + b * hw;
          for (std::int64_t p = 0; p < hw; ++p) {
            const Sample<T> s = sample_at<T>(g, off, msk, b, c / cpg, k, p);
            const Corners<T> cr = corners(s.y, s.x, g.height, g.width, g.width, 1);
            if (!cr.inside) continue;
            const T grad = static_cast<T>(gc[p]);
            for (int q = 0; q < 4; ++q)
              if ((cr.valid >> q) & 1u) dst[cr.offset[q]] += s.mask * corner_weight(cr, q) * grad;
          }
        }
      }
    });
    // The offset's and mask's gradients: (b, og, k) and a block of pixels, over the offset
    // group's channels in order.
    constexpr std::int64_t kBlock = 64;
    const std::int64_t blocks = (hw + kBlock - 1) / kBlock;
    at::parallel_for(0, g.batch * g.offset_groups * taps * blocks, grain(cpg * kBlock * 8),
                     [&](std::int64_t begin, std::int64_t end) {
      std::array<Sample<T>, kBlock> s;
      std::array<Corners<T>, kBlock> cr;
      std::array<T, kBlock> gy, gx, gm;
      for (std::int64_t item = begin; item < end; ++item) {
        const std::int64_t blk = item % blocks, sample = item / blocks;  // sample = (b * OG + og) * K + k
        const std::int64_t k = sample % taps, bog = sample / taps, og = bog % g.offset_groups, b = bog / g.offset_groups;
        const std::int64_t p0 = blk * kBlock, n = std::min(kBlock, hw - p0);
        for (std::int64_t p = 0; p < n; ++p) {
          s[p] = sample_at<T>(g, off, msk, b, og, k, p0 + p);
          cr[p] = corners(s[p].y, s[p].x, g.height, g.width, g.width, 1);
          gy[p] = gx[p] = gm[p] = T(0);
        }
        for (std::int64_t c = og * cpg; c < (og + 1) * cpg; ++c) {
          const scalar_t* src = in + (b * g.channels + c) * plane;
          const scalar_t* gc = gcol + (c * taps + k) * row + b * hw + p0;
          for (std::int64_t p = 0; p < n; ++p) {
            T v[4];
            corner_values(cr[p], src, v);
            const T grad = static_cast<T>(gc[p]);
            gy[p] += s[p].mask * d_dy(cr[p], v) * grad;
            gx[p] += s[p].mask * d_dx(cr[p], v) * grad;
            gm[p] += grad * interpolate(cr[p], v);
          }
        }
        scalar_t* oy = goff + (sample * 2) * hw + p0;
        for (std::int64_t p = 0; p < n; ++p) {
          oy[p] = static_cast<scalar_t>(gy[p]);
          oy[hw + p] = static_cast<scalar_t>(gx[p]);
        }
        if (gmsk)
          for (std::int64_t p = 0; p < n; ++p) gmsk[sample * hw + p0 + p] = static_cast<scalar_t>(gm[p]);
      }
    });
  });
}

}  // namespace

TVX_LIBRARY_IMPL(CPU, m) { Backend</*ChannelsLast=*/false, &im2col, &col2im>::define(m); }

}  // namespace tvx::ops::deform_conv
