#include <iostream>

#include "backends/graph/graph.h"
#include "driver/commands.h"
#include "driver/common.h"

namespace gops::driver {

int runGraph(const GlobalOptions& g, const GraphOptions& o) {
  int status = 0;
  auto c = loadChecked(g, o.path, status);
  if (!c) return status;
  const model::AppModel& app = c->analysis.model;
  std::cout << (o.format == "dot" ? backend::graph::dot(app) : backend::graph::mermaid(app));
  return 0;
}

}  // namespace gops::driver
