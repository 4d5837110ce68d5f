// roi_pool (max) and ps_roi_pool (mean) on the CPU: every output value reads every input
// value of its bin, O(K * C' * RoI area). Forward runs over (channel, RoI) pairs on all
// cores, in the order that reuses cache lines; backward over input channels, each visiting
// the RoIs in order, so no two threads write one value and each sum is formed in
// torchvision's order.
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/zeros.h>

#include <cfloat>

#include "core/registration.h"
#include "ops/roi/roi.h"

namespace tvx::ops::roi {
namespace {

std::tuple<at::Tensor, at::Tensor> pool_forward(const char* op, const at::Tensor& input, const at::Tensor& rois,
                                                double spatial_scale, std::int64_t ph, std::int64_t pw, bool ps) {
  check_forward(op, input, rois, spatial_scale, ph, pw, ps);
  const at::Tensor r = rois_for(rois, input.scalar_type());  // as the kernels read them
  check_batch_indices(op, r, input.size(0));
  const std::int64_t k = rois.size(0), channels = input.size(1), height = input.size(2), width = input.size(3);
  const std::int64_t c_out = ps ? channels / (ph * pw) : channels;
  at::Tensor output = at::empty({k, c_out, ph, pw}, input.options());
  at::Tensor index = at::empty({k, c_out, ph, pw}, input.options().dtype(at::kInt));
  if (output.numel() == 0) return {output, index};
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "tvx_roi_pool_cpu", [&] {
    using T = at::opmath_type<scalar_t>;
    const T* roi_data = r.data_ptr<T>();
    const scalar_t* in = input.const_data_ptr<scalar_t>();
    const std::int64_t sn = input.stride(0), sc = input.stride(1), sh = input.stride(2), sw = input.stride(3);
    scalar_t* out = output.data_ptr<scalar_t>();
    std::int32_t* idx = index.data_ptr<std::int32_t>();
    // ps_roi_pool's forward never pools the last row and column (see pool_bin).
    const std::int64_t limit_h = ps ? height - 1 : height, limit_w = ps ? width - 1 : width;
    // A thread's consecutive tasks share cache lines, as roi_align's: channel-major where a
    // channel is a plane, RoI-major where channels interleave (channels_last).
    const bool channel_major = sc != 1;
    at::parallel_for(0, k * c_out, cpu_grain(height * width / std::max<std::int64_t>(k, 1) + ph * pw), [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin; i < end; ++i) {
        const std::int64_t c = channel_major ? i / k : i % c_out, roi = channel_major ? i % k : i / c_out;
        const PoolRoi<T> p = pool_roi(roi_data + 5 * roi, static_cast<T>(spatial_scale), ph, pw, ps);
        for (std::int64_t y = 0; y < ph; ++y)
          for (std::int64_t x = 0; x < pw; ++x) {
            const PoolBin b = pool_bin(p, y, x, limit_h, limit_w);
            const std::int64_t c_in = ps ? ps_channel(c, y, x, ph, pw) : c;
            const scalar_t* plane = in + p.batch * sn + c_in * sc;
            const std::int64_t o = ((roi * c_out + c) * ph + y) * pw + x;
            if (ps) {
              T sum = 0;
              for (std::int64_t h = b.h0; h < b.h1; ++h)
                for (std::int64_t w = b.w0; w < b.w1; ++w) sum += static_cast<T>(plane[h * sh + w * sw]);
              const T area = static_cast<T>((b.h1 - b.h0) * (b.w1 - b.w0));
              out[o] = static_cast<scalar_t>(b.empty() ? T(0) : sum / area);
              idx[o] = static_cast<std::int32_t>(c_in);
            } else {
              // torchvision starts from -FLT_MAX (also for float64) and keeps the first maximum.
              T best = b.empty() ? T(0) : static_cast<T>(-FLT_MAX);
              std::int64_t arg = -1;
              for (std::int64_t h = b.h0; h < b.h1; ++h)
                for (std::int64_t w = b.w0; w < b.w1; ++w) {
                  const T v = static_cast<T>(plane[h * sh + w * sw]);
                  if (v > best) {
                    best = v;
                    arg = h * width + w;
                  }
                }
              out[o] = static_cast<scalar_t>(best);
              idx[o] = static_cast<std::int32_t>(arg);
            }
          }
      }
    });
  });
  return {output, index};
}

// roi_pool: argmax routes each output gradient to one input value. ps_roi_pool: each output
// gradient spreads evenly over its bin (the bin the forward pooled).
at::Tensor pool_backward(const char* op, const at::Tensor& grad, const at::Tensor& rois, const at::Tensor& argmax,
                         double spatial_scale, std::int64_t ph, std::int64_t pw, std::int64_t batch_size,
                         std::int64_t channels, std::int64_t height, std::int64_t width, bool ps) {
  check_backward(op, grad, rois, spatial_scale, ph, pw, batch_size, channels, height, width, ps);
  const at::Tensor r = rois_for(rois, grad.scalar_type());  // as the kernels read them
  check_batch_indices(op, r, batch_size);
  if (!ps) {
    TORCH_CHECK(argmax.scalar_type() == at::kInt && argmax.sizes() == grad.sizes(), op,
                ": argmax must be int32 of grad's shape ", grad.sizes(), ", got ", argmax.sizes(), " ",
                argmax.scalar_type());
    TORCH_CHECK(argmax.device() == grad.device(), op, ": argmax must be on grad's device");
  }
  at::Tensor grad_input = grad_input_sum(grad, batch_size, channels, height, width);
  if (grad.numel() == 0 || grad_input.numel() == 0) return grad_input.to(grad.scalar_type());
  const std::int64_t k = rois.size(0), c_out = grad.size(1), plane = height * width;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad.scalar_type(), "tvx_roi_pool_backward_cpu", [&] {
    using T = at::opmath_type<scalar_t>;
    const T* roi_data = r.data_ptr<T>();
    const scalar_t* g = grad.const_data_ptr<scalar_t>();
    const std::int64_t gn = grad.stride(0), gc = grad.stride(1), gh = grad.stride(2), gw = grad.stride(3);
    const at::Tensor am = ps ? at::Tensor() : argmax.contiguous();
    const std::int32_t* arg = ps ? nullptr : am.const_data_ptr<std::int32_t>();
    T* gi = grad_input.data_ptr<T>();
    at::parallel_for(0, channels, 1, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t c = begin; c < end; ++c) {
        const std::int64_t oc = ps ? c / (ph * pw) : c;
        const std::int64_t y0 = ps ? (c / pw) % ph : 0, y1 = ps ? y0 + 1 : ph;
        const std::int64_t x0 = ps ? c % pw : 0, x1 = ps ? x0 + 1 : pw;
        for (std::int64_t roi = 0; roi < k; ++roi) {
          const PoolRoi<T> p = pool_roi(roi_data + 5 * roi, static_cast<T>(spatial_scale), ph, pw, ps);
          T* dst = gi + (p.batch * channels + c) * plane;
          for (std::int64_t y = y0; y < y1; ++y)
            for (std::int64_t x = x0; x < x1; ++x) {
              const T v = static_cast<T>(g[roi * gn + oc * gc + y * gh + x * gw]);
              if (!ps) {
                const std::int64_t a = arg[((roi * c_out + oc) * ph + y) * pw + x];
                TORCH_CHECK(a >= -1 && a < plane, op, ": argmax holds ", a, ", outside [-1, ", plane, ")");
                if (a >= 0) dst[a] += v;
                continue;
              }
              const PoolBin b = pool_bin(p, y, x, height - 1, width - 1);
              if (b.empty()) continue;
              const T share = v / static_cast<T>((b.h1 - b.h0) * (b.w1 - b.w0));
              for (std::int64_t h = b.h0; h < b.h1; ++h)
                for (std::int64_t w = b.w0; w < b.w1; ++w) dst[h * width + w] += share;
            }
        }
      }
    });
  });
  return grad_input.to(grad.scalar_type());
}

}  // namespace

TVX_LIBRARY_IMPL(CPU, m) { PoolBackend<&pool_forward, &pool_backward>::define(m); }

}  // namespace tvx::ops::roi
