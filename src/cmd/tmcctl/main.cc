// tmcctl: the operator's CLI for tmcd (docs/tmcctl.md, man/tmcctl.1).
#include <iostream>

#include "ctl/cli.h"

int main(int argc, char** argv) {
  return tmcd::ctl::TmcctlMain(argc, argv, std::cout, std::cerr);
}
