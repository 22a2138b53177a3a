#pragma once
// What every tmcctl command gets (docs/tmcctl.md): the connection, the output format, the namespace
// flags, the output streams and the time tables are printed at; and the one way errors are reported
// (exit codes: 0 ok, 1 failure, 2 usage).

#include <chrono>
#include <ostream>
#include <string>

#include "ctl/connect.h"
#include "ctl/output.h"

namespace tmcd::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

inline constexpr std::string_view kTmcGroup = "tmc.kcp.io";

struct Session {
  Connection conn;
  Format format = Format::kTable;
  std::string namespace_;  // -n, else the kubeconfig context's, else "default"
  bool all_namespaces = false;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();

  kube::ResourceRef Tmc(std::string resource, std::string ns = "") const {
    return {std::string(kTmcGroup), "v1alpha1", std::move(resource), std::move(ns), conn.workspace};
  }
  kube::ResourceRef Ref(std::string group, std::string version, std::string resource, std::string ns = "") const {
    return {std::move(group), std::move(version), std::move(resource), std::move(ns), conn.workspace};
  }
  // The namespace list commands read: "" with -A.
  std::string ListNamespace() const { return all_namespaces ? "" : namespace_; }
};

// Prints "error: <what went wrong>" and, on the next line, what to do about it (the hint, or one
// derived from the kind of failure: credentials refused, forbidden, unreachable, not found); returns 1.
int Fail(const Session& s, const Status& st, std::string_view hint = "");
// The same without a session (before one exists: connection errors, usage).
int FailTo(std::ostream& err, const Status& st, std::string_view where, std::string_view hint = "");
// kubectl's message for an empty list: "No resources found in <ns> namespace." / "No resources found".
void NoResources(const Session& s, bool namespaced);

}  // namespace tmcd::ctl
