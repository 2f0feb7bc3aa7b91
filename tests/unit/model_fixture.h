#pragma once
/// The skeleton the backend unit tests build their hand-made models on: the shop app
/// (registry account 111111111111) and a `dev` environment in account 222222222222
/// with two zones. Tests add their own services and jobs.
#include "model/model.h"

namespace gops::testing {

inline model::AppModel shopApp() {
  model::AppModel m;
  m.app.name = "shop";
  m.app.region = "us-east-1";
  m.app.repository = "acme/shop";
  m.app.registry = "111111111111";
  m.app.sourceFile = "shop.gops";
  return m;
}

inline model::Environment devEnvironment() {
  model::Environment e;
  e.name = "dev";
  e.account = "222222222222";
  e.region = "us-east-1";
  e.network.cidr = "10.10.0.0/16";
  e.network.zones = 2;
  return e;
}

}  // namespace gops::testing
