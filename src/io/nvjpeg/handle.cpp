// nvJPEG handles, one per device (nvjpeg.h), and what `tvx info` says of the library.
#include "io/nvjpeg/nvjpeg.h"

#include <c10/cuda/CUDAGuard.h>
#include <c10/util/Exception.h>
#include <library_types.h>

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "io/io.h"

namespace tvx::io {
namespace nvjpeg {

const char* status_name(nvjpegStatus_t status) {
  switch (status) {
    case NVJPEG_STATUS_SUCCESS: return "success";
    case NVJPEG_STATUS_NOT_INITIALIZED: return "not initialized";
    case NVJPEG_STATUS_INVALID_PARAMETER: return "invalid parameter";
    case NVJPEG_STATUS_BAD_JPEG: return "bad JPEG data";
    case NVJPEG_STATUS_JPEG_NOT_SUPPORTED: return "JPEG type not supported";
    case NVJPEG_STATUS_ALLOCATOR_FAILURE: return "allocation failed (out of memory?)";
    case NVJPEG_STATUS_EXECUTION_FAILED: return "execution failed";
    case NVJPEG_STATUS_ARCH_MISMATCH: return "not supported on this GPU";
    case NVJPEG_STATUS_INTERNAL_ERROR: return "internal error";
    case NVJPEG_STATUS_IMPLEMENTATION_NOT_SUPPORTED: return "not supported by this backend";
    case NVJPEG_STATUS_INCOMPLETE_BITSTREAM: return "incomplete bitstream";
    default: return "unknown status";
  }
}

const Api& api() {
  static const Api loaded = [] {
    const std::string name = c10::str("libnvjpeg.so.", NVJPEG_VER_MAJOR);
    std::string why;  // each failed attempt's reason
    auto open = [&](const std::string& path) {
      void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!handle) why += c10::str(why.empty() ? "" : "; ", dlerror());
      return handle;
    };
    void* library = open(name);
#ifdef TVX_NVJPEG_DIR
    if (!library) library = open(std::string(TVX_NVJPEG_DIR) + "/" + name);
#endif
    TORCH_CHECK(library, "tvx: cannot load nvJPEG (", why,
                "); install the CUDA toolkit's nvJPEG or PyPI's nvidia-nvjpeg, or decode on the CPU");
    Api api;
#define TVX_NVJPEG_LOAD(fn)                                                                      \
  api.fn = reinterpret_cast<decltype(api.fn)>(dlsym(library, #fn));                              \
  TORCH_CHECK(api.fn, "tvx: ", name, " has no ", #fn, " (an nvJPEG older than ", NVJPEG_VER_MAJOR, ".", \
              NVJPEG_VER_MINOR, "?)");
    TVX_NVJPEG_FUNCTIONS(TVX_NVJPEG_LOAD)
#undef TVX_NVJPEG_LOAD
    return api;  // the library stays loaded for the process
  }();
  return loaded;
}

std::string Handle::describe() const {
  if (!hardware) return "gpu";
  return c10::str("hardware (", engines, " engines x ", cores_per_engine, " cores; refused files on ",
                  refused_on_decoupled ? "the decoupled decoder" : "CPU threads", ")");
}

namespace {
// Strict: a bitstream nvJPEG finds corrupt is an error, not a best-effort image. (Colour comes
// out as YCbCr planes, converted by ycc.cu: nvJPEG's own upsampling is not used.)
constexpr unsigned kFlags = NVJPEG_FLAGS_BITSTREAM_STRICT;

std::unique_ptr<Handle> default_backend(int device) {
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device));
  auto h = std::make_unique<Handle>();
  TVX_NVJPEG_CHECK("tvx nvJPEG", api().nvjpegCreateEx(NVJPEG_BACKEND_DEFAULT, nullptr, nullptr, kFlags, &h->handle));
  return h;
}
}  // namespace

const Handle& handle(int device) {
  static PerDevice<Handle> handles;
  return handles.get(device, [](int device) {
    const Api& nv = api();
    // Checked before any handle is made, whatever the backend.
    const char* refused = std::getenv("TVX_NVJPEG_REFUSED");
    TORCH_CHECK(!refused || !*refused || std::strcmp(refused, "cpu") == 0 || std::strcmp(refused, "decoupled") == 0,
                "tvx nvJPEG: TVX_NVJPEG_REFUSED must be cpu or decoupled, got '", refused, "'");
    const char* forced = std::getenv("TVX_NVJPEG_BACKEND");
    if (forced && std::strcmp(forced, "gpu") == 0) return default_backend(device);
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device));
    auto h = std::make_unique<Handle>();
    if (nv.nvjpegCreateEx(NVJPEG_BACKEND_HARDWARE, nullptr, nullptr, kFlags, &h->handle) != NVJPEG_STATUS_SUCCESS)
      return default_backend(device);
    h->hardware = true;
    h->refused_on_decoupled = !(refused && std::strcmp(refused, "cpu") == 0);  // validated above
    if (nv.nvjpegGetHardwareDecoderInfo(h->handle, &h->engines, &h->cores_per_engine) != NVJPEG_STATUS_SUCCESS)
      h->engines = h->cores_per_engine = 0;
    return h;
  });
}

const Handle& decoupled_handle(int device) {
  const Handle& h = handle(device);
  if (!h.hardware) return h;
  static PerDevice<Handle> handles;
  return handles.get(device, default_backend);
}

}  // namespace nvjpeg

namespace detail {
std::string nvjpeg_library() {
  const nvjpeg::Api* nv = nullptr;
  try {
    nv = &nvjpeg::api();
  } catch (const c10::Error&) {
    return "";  // built with nvJPEG, but it cannot be loaded here: no GPU JPEG (the GPU forms say why)
  }
  int major = 0, minor = 0, patch = 0;
  if (nv->nvjpegGetProperty(MAJOR_VERSION, &major) != NVJPEG_STATUS_SUCCESS ||
      nv->nvjpegGetProperty(MINOR_VERSION, &minor) != NVJPEG_STATUS_SUCCESS ||
      nv->nvjpegGetProperty(PATCH_LEVEL, &patch) != NVJPEG_STATUS_SUCCESS)
    return "nvJPEG (version unknown)";
  return c10::str("nvJPEG ", major, ".", minor, ".", patch);
}
}  // namespace detail

}  // namespace tvx::io
