#pragma once
/// Kept for the plan backend until it reads the facts: the names moved to
/// deploy_facts/naming.h (gops::facts), and the Terraform expressions to refs.h.
#include "deploy_facts/naming.h"

namespace gops::backend::terraform {

using facts::EnvNames;
using facts::kHostsPerListenerRule;

}  // namespace gops::backend::terraform
