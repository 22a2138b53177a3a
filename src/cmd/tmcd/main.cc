// tmcd: Transparent Multi-Cluster daemon. main() only blocks signals and hands over to the app.
#include "app/app.h"
#include "app/cli.h"

int main(int argc, char** argv) {
  tmcd::app::BlockSignals();
  return tmcd::app::TmcdMain(argc, argv);
}
