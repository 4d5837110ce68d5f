// Version facts and the GPU code images of libtvx, read from its own ELF file: the
// .nv_fatbin section holds one fat-binary container per CUDA translation unit, each
// a list of (kind, arch) entries followed by their payloads.
#include <tvx/core.h>

#include <ATen/Parallel.h>

#include <dlfcn.h>
#include <elf.h>

#include <algorithm>
#include <atomic>
#include <vector>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <tuple>

namespace tvx {

std::string version() { return TVX_VERSION; }
std::string variant() { return TVX_VARIANT; }
std::string cpu_isa() { return TVX_CPU_ISA; }
std::string cpu_flags() { return TVX_CPU_FLAGS; }
std::string torch_version() { return TVX_TORCH_BUILD_VERSION; }
std::string min_driver() { return TVX_MIN_DRIVER; }

int cpu_kernel_threads() {
  const int n = at::get_num_threads();
  std::vector<std::atomic<bool>> seen(static_cast<std::size_t>(n));
  at::parallel_for(0, n, 1, [&](std::int64_t, std::int64_t) {
    const int t = at::get_thread_num();
    if (t >= 0 && t < n) seen[static_cast<std::size_t>(t)] = true;
  });
  int used = 0;
  for (const auto& s : seen) used += s ? 1 : 0;
  return used;
}

int compare_driver_versions(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    long x = 0, y = 0;
    for (; i < a.size() && a[i] != '.'; ++i) x = x * 10 + (a[i] >= '0' && a[i] <= '9' ? a[i] - '0' : 0);
    for (; j < b.size() && b[j] != '.'; ++j) y = y * 10 + (b[j] >= '0' && b[j] <= '9' ? b[j] - '0' : 0);
    if (x != y) return x < y ? -1 : 1;
    ++i, ++j;
  }
  return 0;
}

bool built_with_cuda() {
#ifdef TVX_WITH_CUDA
  return true;
#else
  return false;
#endif
}

std::string CudaImage::name() const {
  std::string s = (ptx ? "compute_" : "sm_") + std::to_string(arch);
  if (suffix) s += suffix;
  return s;
}

namespace {

std::string own_library_path() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&compiled_cuda_images), &info) == 0 || !info.dli_fname) return {};
  return info.dli_fname;
}

std::string read_fatbin_section(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return {};
  std::string file((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (file.size() < sizeof(Elf64_Ehdr)) return {};
  Elf64_Ehdr eh;
  std::memcpy(&eh, file.data(), sizeof eh);
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64) return {};
  auto section = [&](std::size_t i) {
    Elf64_Shdr sh{};
    std::size_t off = eh.e_shoff + i * eh.e_shentsize;
    if (off + sizeof sh <= file.size()) std::memcpy(&sh, file.data() + off, sizeof sh);
    return sh;
  };
  if (eh.e_shstrndx >= eh.e_shnum) return {};
  Elf64_Shdr names = section(eh.e_shstrndx);
  for (std::size_t i = 0; i < eh.e_shnum; ++i) {
    Elf64_Shdr sh = section(i);
    std::size_t name_off = names.sh_offset + sh.sh_name;
    if (name_off >= file.size() || sh.sh_type == SHT_NOBITS) continue;
    if (std::strcmp(file.c_str() + name_off, ".nv_fatbin") == 0 &&
        sh.sh_offset + sh.sh_size <= file.size())
      return file.substr(sh.sh_offset, sh.sh_size);
  }
  return {};
}

template <typename T>
T load(const std::string& s, std::size_t off) {
  T v{};
  if (off + sizeof v <= s.size()) std::memcpy(&v, s.data() + off, sizeof v);
  return v;
}

constexpr std::uint32_t kFatbinMagic = 0xBA55ED50u;
constexpr std::uint16_t kKindPtx = 1, kKindElf = 2;
constexpr std::uint32_t kFlagArchSpecific = 0x100000u, kFlagFamilySpecific = 0x200000u;

}  // namespace

std::vector<CudaImage> compiled_cuda_images() {
  const std::string fatbin = read_fatbin_section(own_library_path());
  std::set<std::tuple<int, bool, char>> seen;
  // Containers are 8-byte aligned and back to back; padding between them is zero.
  for (std::size_t off = 0; off + 16 <= fatbin.size();) {
    if (load<std::uint32_t>(fatbin, off) != kFatbinMagic) { off += 8; continue; }
    const std::size_t header = load<std::uint16_t>(fatbin, off + 6);
    const std::size_t body = load<std::uint64_t>(fatbin, off + 8);
    const std::size_t end = std::min(fatbin.size(), off + header + body);
    for (std::size_t e = off + header; e + 48 <= end;) {
      const auto kind = load<std::uint16_t>(fatbin, e);
      const auto entry_header = load<std::uint32_t>(fatbin, e + 4);
      const auto payload = load<std::uint64_t>(fatbin, e + 8);
      const auto arch = load<std::uint32_t>(fatbin, e + 28);
      const auto flags = load<std::uint32_t>(fatbin, e + 40);
      if (entry_header == 0 || payload > end - e) break;
      if (kind == kKindPtx || kind == kKindElf) {
        char suffix = (flags & kFlagArchSpecific) ? 'a' : (flags & kFlagFamilySpecific) ? 'f' : '\0';
        seen.emplace(static_cast<int>(arch), kind == kKindPtx, suffix);
      }
      e += entry_header + payload;
    }
    off += std::max<std::size_t>(8, header + std::min(body, fatbin.size()));
  }
  std::vector<CudaImage> images;
  for (auto [arch, ptx, suffix] : seen) images.push_back({arch, ptx, suffix});
  return images;
}

Coverage coverage(const std::vector<CudaImage>& images, int major, int minor) {
  const int cc = major * 10 + minor;
  // SASS runs on its own major version at an equal or higher minor; 'a' images only on
  // exactly their architecture. PTX is compiled by the driver for any newer device.
  for (const auto& im : images)
    if (!im.ptx && im.arch / 10 == major &&
        (im.suffix == 'a' ? im.arch == cc : im.arch % 10 <= minor))
      return Coverage::sass;
  for (const auto& im : images)
    if (im.ptx && im.suffix == '\0' && im.arch <= cc) return Coverage::ptx;
  return Coverage::none;
}

const char* to_string(Coverage c) {
  switch (c) {
    case Coverage::sass: return "sass";
    case Coverage::ptx: return "ptx";
    case Coverage::none: return "none";
  }
  return "none";
}

std::string cuda_version_string(int v) {
  if (v <= 0) return "none";
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

}  // namespace tvx
