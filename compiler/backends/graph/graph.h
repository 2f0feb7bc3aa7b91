#pragma once
/// `gops graph`: a picture of the app for people. Environments with their trigger
/// and approvals, promotion edges with their gates, and the services of each
/// environment with their replicas and rollout. Mermaid (GitHub renders it in
/// Markdown) or Graphviz DOT. Reads only the model; deterministic.
#include <string>

#include "model/model.h"

namespace gops::backend::graph {

std::string mermaid(const model::AppModel& app);
std::string dot(const model::AppModel& app);

/// "90s", "5m", "1h30m", "24h", "2d": the shortest exact form of a duration.
std::string duration(double seconds);

}  // namespace gops::backend::graph
