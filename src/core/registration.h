// One mechanism registers every operator: each file that defines schemas or implements
// kernels declares a block with TVX_LIBRARY / TVX_LIBRARY_IMPL. The block runs at load time
// for the "tvx" namespace and is kept so that tvx::register_operators("other") can run it
// again for another namespace (to stand in for torchvision's native library, say).
#pragma once

#include <torch/library.h>

namespace tvx::core {

using LibraryBlock = void (*)(torch::Library&);

/// Records a block and runs it for the "tvx" namespace. kind DEF blocks hold schemas
/// (several files may add schemas: they are registered as fragments); IMPL blocks hold
/// kernels for one dispatch key.
struct LibraryRegistrar {
  LibraryRegistrar(torch::Library::Kind kind, std::optional<c10::DispatchKey> key, LibraryBlock block,
                   const char* file, std::uint32_t line);
};

}  // namespace tvx::core

#define TVX_CONCAT_INNER(a, b) a##b
#define TVX_CONCAT(a, b) TVX_CONCAT_INNER(a, b)

/// Schemas: TVX_LIBRARY(m) { m.def("nms(Tensor dets, ...) -> Tensor"); }
#define TVX_LIBRARY(m) TVX_LIBRARY_BLOCK(FRAGMENT, std::nullopt, m, __COUNTER__)
/// Kernels: TVX_LIBRARY_IMPL(CPU, m) { m.impl("nms", &nms_cpu); }
#define TVX_LIBRARY_IMPL(key, m) TVX_LIBRARY_BLOCK(IMPL, c10::DispatchKey::key, m, __COUNTER__)

#define TVX_LIBRARY_BLOCK(kind, key, m, uid)                                                    \
  static void TVX_CONCAT(tvx_library_block_, uid)(torch::Library&);                             \
  static const ::tvx::core::LibraryRegistrar TVX_CONCAT(tvx_library_registrar_, uid)(           \
      torch::Library::kind, key, &TVX_CONCAT(tvx_library_block_, uid), __FILE__, __LINE__);    \
  static void TVX_CONCAT(tvx_library_block_, uid)(torch::Library & m)
