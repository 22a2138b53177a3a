#pragma once
// The tmcd command line: flags, subcommands, exit codes. Exit codes: 0 success, 1 runtime
// failure, 2 usage or configuration error, 3 the store was written by a newer tmcd (the unit's
// RestartPreventExitStatus: restarting cannot help; docs/install.md#upgrades).

namespace tmcd::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitNewerStore = 3;

int TmcdMain(int argc, char** argv);

}  // namespace tmcd::app
