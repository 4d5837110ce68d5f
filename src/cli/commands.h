#pragma once

namespace tvx::cli {

/// Exit codes of the tvx program (also in `tvx --help`).
enum Exit : int {
  kOk = 0,           ///< the command ran; for verify: every check passed
  kCheckFailed = 1,  ///< verify: at least one check failed
  kError = 2,        ///< bad arguments, or an error that stopped the command
};

/// `tvx info`: what this build holds and what this machine offers.
int info(bool json);
/// `tvx verify`: runtime verification of the build on this machine.
int verify(bool json);

}  // namespace tvx::cli
