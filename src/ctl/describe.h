#pragma once
// kubectl-describe-style text (docs/tmcctl.md): "Key:  value" lines, indented sub-sections and tables.
// Pure apart from the requests the describe commands make.

#include <string>
#include <utility>
#include <vector>

#include "ctl/output.h"

namespace tmcd::ctl {

class Describer {
 public:
  // "Name:          east" — values aligned at the widest key of the section.
  void Section(const std::vector<std::pair<std::string, std::string>>& kv);
  void Heading(const std::string& title);  // "Conditions:"
  void Indented(const std::string& text);  // a table or lines, indented two spaces
  void Line(const std::string& text) { out_ += text + "\n"; }
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

// A map of labels as kubectl prints them ("a=b" per line, "<none>").
std::string LabelLines(const Json& labels);
// The conditions as a table: TYPE STATUS REASON AGE MESSAGE.
std::string ConditionTable(const Json& conditions, std::chrono::system_clock::time_point now);

}  // namespace tmcd::ctl
