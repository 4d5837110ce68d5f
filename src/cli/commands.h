#pragma once

namespace tvx::cli {
/// `tvx info`: what this build holds and what this machine offers. Returns the exit code.
int info(bool json);
/// `tvx verify`: runtime verification of the build on this machine. Returns the exit code.
int verify();
}  // namespace tvx::cli
