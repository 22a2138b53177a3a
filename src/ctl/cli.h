#pragma once
// tmcctl's command line (docs/tmcctl.md, man/tmcctl.1): global connection and output flags, the
// cluster / placement / workload command groups, version and completion. Exit codes: 0 ok, 1 failure,
// 2 usage.

#include <CLI/CLI.hpp>
#include <functional>
#include <ostream>
#include <string>

#include "ctl/session.h"

namespace tmcd::ctl {

struct Globals {
  ConnectFlags connect;
  std::string output;
  std::string namespace_;
  bool all_namespaces = false;
};

// What the parsed command does; `session` false for commands that talk to no server.
struct Action {
  std::function<int(Session&)> run;
  bool session = true;
};

// Adds the command groups to `app`; the parsed leaf command stores its action in `action`.
void AddClusterCommands(CLI::App& app, Action& action);
void AddPlacementCommands(CLI::App& app, Action& action);
void AddWorkloadCommands(CLI::App& app, Action& action);
// bash, zsh or fish completion for every command and flag of `app`.
Result<std::string> CompletionScript(const CLI::App& app, const std::string& shell);

// The whole program: parses argv, connects, runs the command; returns the exit code.
int TmcctlMain(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace tmcd::ctl
