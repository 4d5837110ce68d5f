// YCbCr to RGB as libjpeg-turbo decodes by default (ycc.h). The filters are jdsample.c's
// fancy upsamplers, the conversion jdcolor.c's ycc_rgb_convert, written from their definitions:
//   4:2:2 (h2v1):  out[2c] = (3 in[c] + in[c-1] + 1) >> 2,  out[2c+1] = (3 in[c] + in[c+1] + 2) >> 2,
//                  the first and last outputs copy their input;
//   4:4:0 (h1v2):  out = (3 near + far + 1 or 2) >> 2 (1 for the upper output row, 2 for the lower),
//                  with the row beyond an edge repeating the edge row;
//   4:2:0 (h2v2):  column sums s = 3 near + far, then (3 s[c] + s[c-1] + 8) >> 4 and
//                  (3 s[c] + s[c+1] + 7) >> 4, with 4 s[c] at the first and last columns;
//   R = Y + round(1.402 (Cr - 128)), B = Y + round(1.772 (Cb - 128)),
//   G = Y + ((-0.34414 (Cb - 128) - 0.71414 (Cr - 128) + 1/2) >> 16) in 16-bit fixed point, clamped.
#include "io/nvjpeg/ycc.h"

#include <algorithm>

#include <c10/cuda/CUDAException.h>

namespace tvx::io::nvjpeg {
namespace {

constexpr int kPerLaunch = 64;

struct Batch {
  YccImage images[kPerLaunch];
};

__device__ __forceinline__ int at(const std::uint8_t* plane, int pitch, int row, int column) {
  return plane[static_cast<long long>(row) * pitch + column];
}

// The chroma sample of `plane` at output pixel (y, x), upsampled as libjpeg-turbo does.
__device__ __forceinline__ int chroma(const YccImage& im, const std::uint8_t* plane, int y, int x) {
  const int p = im.chroma_pitch, cw = im.chroma_width, ch = im.chroma_height;
  if (im.v_factor == 1) {
    if (im.h_factor == 1) return at(plane, p, y, x);
    const int c = x >> 1;  // h2v1
    const int here = 3 * at(plane, p, y, c);
    if ((x & 1) == 0) return c == 0 ? at(plane, p, y, 0) : (here + at(plane, p, y, c - 1) + 1) >> 2;
    return c == cw - 1 ? at(plane, p, y, c) : (here + at(plane, p, y, c + 1) + 2) >> 2;
  }
  const int r = y >> 1;
  const bool upper = (y & 1) == 0;
  const int far = upper ? max(r - 1, 0) : min(r + 1, ch - 1);
  if (im.h_factor == 1) return (3 * at(plane, p, r, x) + at(plane, p, far, x) + (upper ? 1 : 2)) >> 2;  // h1v2
  const int c = x >> 1;  // h2v2
  auto sum = [&](int column) { return 3 * at(plane, p, r, column) + at(plane, p, far, column); };
  const int here = sum(c);
  if ((x & 1) == 0) return c == 0 ? (4 * here + 8) >> 4 : (3 * here + sum(c - 1) + 8) >> 4;
  return c == cw - 1 ? (4 * here + 7) >> 4 : (3 * here + sum(c + 1) + 7) >> 4;
}

__device__ __forceinline__ std::uint8_t clamp255(int v) { return static_cast<std::uint8_t>(min(max(v, 0), 255)); }

__global__ void ycc_to_rgb_kernel(Batch batch) {
  const YccImage& im = batch.images[blockIdx.z];
  const int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= im.width || y >= im.height) return;
  const int luma = at(im.y, im.y_pitch, y, x);
  const int cb = chroma(im, im.cb, y, x) - 128, cr = chroma(im, im.cr, y, x) - 128;
  const int red = luma + ((91881 * cr + 32768) >> 16);                 // FIX(1.40200)
  const int green = luma + ((-22554 * cb + 32768 - 46802 * cr) >> 16);  // FIX(0.34414), FIX(0.71414)
  const int blue = luma + ((116130 * cb + 32768) >> 16);               // FIX(1.77200)
  const long long plane = static_cast<long long>(im.height) * im.width, i = static_cast<long long>(y) * im.width + x;
  im.rgb[i] = clamp255(red);
  im.rgb[plane + i] = clamp255(green);
  im.rgb[2 * plane + i] = clamp255(blue);
}

}  // namespace

void ycc_to_rgb(const YccImage* images, int count, cudaStream_t stream) {
  for (int first = 0; first < count; first += kPerLaunch) {
    Batch batch;
    const int n = std::min(kPerLaunch, count - first);
    int height = 0, width = 0;
    for (int i = 0; i < n; ++i) {
      batch.images[i] = images[first + i];
      height = std::max(height, images[first + i].height);
      width = std::max(width, images[first + i].width);
    }
    const dim3 block(32, 8), grid((width + 31) / 32, (height + 7) / 8, n);
    ycc_to_rgb_kernel<<<grid, block, 0, stream>>>(batch);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }
}

}  // namespace tvx::io::nvjpeg
