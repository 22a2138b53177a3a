#pragma once
// tmcd.yaml(5), generated from the one table of configuration keys (common/config.h) so that the man
// page, --print-default-config, the flags and the environment variables cannot drift apart.
// `tmcd generate manpage` prints it; man/tmcd.yaml.5 is its committed output, checked by
// test/integration/test_packaging.py.

#include <string>

namespace tmcd::app {

std::string ConfigManPage();

}  // namespace tmcd::app
