// clawctl: the operator CLI of clawdie. Everything is in clawdie_clawctl_lib.
#include <iostream>
#include <string>
#include <vector>

#include "services/clawctl/clawctl.h"

extern char** environ;

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return clawdie::clawctl::RunClawctl(args, environ, std::cin, std::cout, std::cerr);
}
