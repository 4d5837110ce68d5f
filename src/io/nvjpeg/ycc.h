// Private to src/io/nvjpeg: YCbCr planes (nvJPEG's NVJPEG_OUTPUT_YUV, chroma at its coded size)
// to planar RGB, upsampled and converted exactly as libjpeg-turbo does by default ("fancy"
// triangle-filter upsampling, its fixed-point YCbCr tables), so that the GPU's images differ
// from the CPU's only by the IDCT's rounding. Plain CUDA (no ATen): ycc.cu.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace tvx::io::nvjpeg {

/// One image: Y (height x width), Cb and Cr (chroma_height x chroma_width, the same for both),
/// each plane with its own row pitch; the chroma is 1 or 2 times smaller in each direction
/// (4:4:4, 4:2:2, 4:4:0, 4:2:0). rgb: 3 planes of height x width, contiguous.
struct YccImage {
  const std::uint8_t* y;
  const std::uint8_t* cb;
  const std::uint8_t* cr;
  std::uint8_t* rgb;
  int height, width, chroma_height, chroma_width;
  int y_pitch, chroma_pitch;
  int h_factor, v_factor;  // 1 or 2: how much smaller the chroma is
};

/// Whether libjpeg-turbo would upsample this chroma layout with the filters ycc_to_rgb mirrors
/// (it replicates instead where the chroma is 2 or fewer columns wide).
inline bool ycc_supported(int h_factor, int v_factor, int chroma_width) {
  return (h_factor == 1 || h_factor == 2) && (v_factor == 1 || v_factor == 2) && (h_factor == 1 || chroma_width > 2);
}

/// Converts `count` images on `stream` (one launch per 64 images).
void ycc_to_rgb(const YccImage* images, int count, cudaStream_t stream);

}  // namespace tvx::io::nvjpeg
