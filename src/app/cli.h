#pragma once
// The tmcd command line: flags, subcommands, exit codes. Exit codes: 0 success, 1 runtime
// failure, 2 usage or configuration error.

namespace tmcd::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

int TmcdMain(int argc, char** argv);

}  // namespace tmcd::app
