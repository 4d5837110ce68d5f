#include "core/registration.h"

#include <tvx/core.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tvx::core {
namespace {

struct Block {
  torch::Library::Kind kind;
  std::optional<c10::DispatchKey> key;
  LibraryBlock fn;
  const char* file;
  std::uint32_t line;
};

// Written during static initialisation and by register_operators; the mutex keeps
// concurrent register_operators calls apart. Libraries live as long as the process.
struct Registry {
  std::mutex mutex;
  std::vector<Block> blocks;
  std::vector<std::unique_ptr<torch::Library>> libraries;
  std::vector<std::string> namespaces{"tvx"};
};

Registry& registry() {
  static Registry r;
  return r;
}

void run_block(Registry& r, const Block& b, const std::string& ns) {
  auto lib = std::make_unique<torch::Library>(b.kind, ns, b.key, b.file, b.line);
  b.fn(*lib);
  r.libraries.push_back(std::move(lib));
}

}  // namespace

LibraryRegistrar::LibraryRegistrar(torch::Library::Kind kind, std::optional<c10::DispatchKey> key,
                                   LibraryBlock fn, const char* file, std::uint32_t line) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.blocks.push_back({kind, key, fn, file, line});
  for (const auto& ns : r.namespaces) run_block(r, r.blocks.back(), ns);
}

}  // namespace tvx::core

namespace tvx {

void register_operators(const std::string& ns) {
  auto& r = core::registry();
  std::lock_guard lock(r.mutex);
  TORCH_CHECK(std::find(r.namespaces.begin(), r.namespaces.end(), ns) == r.namespaces.end(),
              "tvx.register_operators: operators are already registered in namespace '", ns, "'");
  r.namespaces.push_back(ns);
  for (const auto& b : r.blocks) run_block(r, b, ns);
}

}  // namespace tvx

// For the Python package: tvx.register_operators and tvx.__version__. Registered once, for
// "tvx" only (not through the replayed blocks).
TORCH_LIBRARY_FRAGMENT(tvx, m) {
  m.def("_register_operators(str ns) -> ()", [](c10::string_view ns) { tvx::register_operators(std::string(ns)); });
  m.def("_version() -> str", [] { return tvx::version(); });
}
