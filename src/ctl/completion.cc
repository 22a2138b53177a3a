// `tmcctl completion bash|zsh|fish` (docs/tmcctl.md "Shell completion"): generated from the command tree,
// so every command and flag completes and none can be forgotten.
#include <map>

#include "common/strings.h"
#include "ctl/cli.h"

namespace tmcd::ctl {
namespace {

// Command path (" cluster register"; "" = the root) → what may follow it.
using Tree = std::map<std::string, std::vector<std::string>>;

void Walk(const CLI::App& app, const std::string& path, const std::vector<std::string>& inherited, Tree& tree) {
  std::vector<std::string> words = inherited;
  std::vector<std::string> flags = inherited;
  for (const CLI::Option* o : app.get_options()) {
    for (const auto& l : o->get_lnames()) flags.push_back("--" + l);
    for (const auto& s : o->get_snames()) flags.push_back("-" + s);
  }
  words = flags;
  for (const CLI::App* sub : app.get_subcommands({})) {
    words.push_back(sub->get_name());
    Walk(*sub, path + " " + sub->get_name(), path.empty() ? flags : inherited, tree);
  }
  tree[path] = words;
}

std::string Bash(const Tree& tree) {
  std::string paths;
  std::string cases;
  for (const auto& [path, words] : tree) {
    if (!path.empty()) paths += (paths.empty() ? "\"" : "|\"") + path + "\"";
    cases += "    \"" + path + "\") words=\"" + Join(words, " ") + "\" ;;\n";
  }
  return "# tmcctl bash completion: source <(tmcctl completion bash)\n"
         "_tmcctl() {\n"
         "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" path=\"\" w i words\n"
         "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
         "    w=\"${COMP_WORDS[i]}\"\n"
         "    case \"$path $w\" in\n"
         "      " +
         paths +
         ") path=\"$path $w\" ;;\n"
         "    esac\n"
         "  done\n"
         "  case \"$path\" in\n" +
         cases +
         "  esac\n"
         "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
         "}\n"
         "complete -o default -F _tmcctl tmcctl\n";
}

std::string Fish(const Tree& tree) {
  std::string out =
      "# tmcctl fish completion: tmcctl completion fish > ~/.config/fish/completions/tmcctl.fish\n"
      "function __tmcctl_path\n"
      "  set -l path ''\n"
      "  for w in (commandline -opc)[2..-1]\n"
      "    if contains -- \"$path $w\" $__tmcctl_paths\n"
      "      set path \"$path $w\"\n"
      "    end\n"
      "  end\n"
      "  echo \"$path\"\n"
      "end\n"
      "set -g __tmcctl_paths";
  for (const auto& [path, words] : tree) {
    if (!path.empty()) out += " '" + path + "'";
  }
  out += "\ncomplete -c tmcctl -f\n";
  for (const auto& [path, words] : tree) {
    out += "complete -c tmcctl -n 'test (__tmcctl_path) = \"" + path + "\"' -a '" + Join(words, " ") + "'\n";
  }
  return out;
}

}  // namespace

Result<std::string> CompletionScript(const CLI::App& app, const std::string& shell) {
  Tree tree;
  Walk(app, "", {}, tree);
  if (shell == "bash") return Bash(tree);
  if (shell == "zsh") return "#compdef tmcctl\nautoload -U +X bashcompinit && bashcompinit\n" + Bash(tree);
  if (shell == "fish") return Fish(tree);
  return BadRequest("unknown shell " + Quote(shell) + ": bash, zsh or fish");
}

}  // namespace tmcd::ctl
