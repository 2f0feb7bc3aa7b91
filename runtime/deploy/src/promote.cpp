// `gops record-tests` and `gops promote --check` (docs/runtime.md).
#include <algorithm>
#include <ostream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "gops/aws/client.h"
#include "gops/aws/encoding.h"
#include "gops/aws/error.h"
#include "gops/deploy/promote.h"
#include "live.h"

namespace gops::deploy {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::system_clock;

std::string formatSeconds(long long s) {
  if (s < 0) s = 0;
  if (s % 86400 == 0 && s >= 86400) return fmt::format("{} d", s / 86400);
  if (s % 3600 == 0 && s >= 3600) return fmt::format("{} h", s / 3600);
  if (s % 60 == 0 && s >= 60) return fmt::format("{} min", s / 60);
  return fmt::format("{} s", s);
}

/// Collects the gates' outcomes.
class Gates {
 public:
  void add(const std::string& gate, const std::string& status, const std::string& expected, const std::string& found) {
    gates_.push_back({{"gate", gate}, {"status", status}, {"expected", expected}, {"found", found}});
    if (status == "unmet") passed_ = false;
  }
  json result() const { return gates_; }
  bool passed() const { return passed_; }

 private:
  json gates_ = json::array();
  bool passed_ = true;
};

std::string describeDeploy(const json& d) {
  std::string what = d.value("kind", "") == "rollback" ? "a rollback" : fmt::format("a deploy of {}", d.value("image_tag", "?"));
  return fmt::format("{} ({}, ended {})", what, d.value("status", "?"), d.value("ended", d.value("started", "?")));
}

/// The tag a `deploy` record gave `service`, or nullopt when the deploy left it alone (or
/// was a rollback): its `image_tags` when it has them (a deploy with tags of their
/// own), else its `image_tag` (a deploy of every service).
std::optional<std::string> deployedTag(const json& d, const std::string& service) {
  if (d.value("kind", "") == "rollback") return std::nullopt;
  if (d.contains("image_tags") && d["image_tags"].is_object()) {
    if (!d["image_tags"].contains(service)) return std::nullopt;
    return d["image_tags"].value(service, "");
  }
  return d.value("image_tag", "");
}

/// Whether the `deploy` record changed `service`: a deploy that gave it a tag, or a
/// rollback of it (of every service when it names none).
bool touches(const json& d, const std::string& service) {
  if (d.value("kind", "") == "rollback") {
    const json services = d.value("services", json::object());
    return !services.is_object() || services.empty() || services.contains(service);
  }
  return deployedTag(d, service).has_value();
}

}  // namespace

json recordTests(aws::AwsClient& aws, const Bundle& env, const RecordTestsOptions& o) {
  json record = {{"image_tag", o.imageTag}, {"result", o.result}, {"recorded", aws::formatIso8601(Clock::now())},
                 {"commit", o.commit}, {"actor", o.actor}};
  const std::string name = env.plan.ledger + "/tests/" + o.imageTag;
  aws.callJson("ssm", "PutParameter", {{"Name", name}, {"Value", record.dump()}, {"Type", "String"}, {"Overwrite", true}});
  record["parameter"] = name;
  return record;
}

const plan::Gate* promotionGates(const Bundle& to, const std::string& from) { return to.plan.gateFrom(from); }

json checkPromotion(aws::AwsClient& aws, const Bundle& fromBundle, const Bundle& toBundle, const ImageTags& tags, Clock::time_point now) {
  const plan::Plan& plan = fromBundle.plan;
  const std::string& from = plan.environment;
  const std::string& to = toBundle.plan.environment;
  const std::string& ledger = plan.ledger;
  const std::string& cluster = plan.cluster;
  const plan::Gate* rule = promotionGates(toBundle, from);
  if (!rule) throw DeployError(fmt::format("there is no `promote {} -> {}` in the spec", from, to));
  const std::string tag = tags.text();
  // The services promoted: every one, or those with a tag of their own (a scoped promotion).
  std::vector<const plan::Service*> scope;
  std::string scopeNames;
  for (const auto& s : plan.services) {
    if (!tags.of(s.name)) continue;
    scope.push_back(&s);
    scopeNames += (scopeNames.empty() ? "" : ", ") + s.name;
  }
  const std::string onWhat = tags.scoped() ? scopeNames : "every service";
  Gates gates;

  // 1. Deployed: per service, the last successful deploy of its tag in FROM's ledger, and
  //    nothing after it that replaced it; its record and the revision it runs.
  json history = live::ledgerHistory(aws, ledger, "deploy");
  // One entry per deploy (the history holds each update of a record): keep the last.
  json deploys = json::array();
  for (const auto& d : history) {
    if (!d.is_object()) continue;
    if (!deploys.empty() && deploys.back().value("deploy_id", "") == d.value("deploy_id", "")) {
      deploys.back() = d;
    } else {
      deploys.push_back(d);
    }
  }
  std::vector<std::optional<std::size_t>> good(scope.size());
  std::vector<std::string> notDeployed;  // per service without a good deploy, what was found
  for (std::size_t k = 0; k < scope.size(); ++k) {
    const std::string& name = scope[k]->name;
    const std::string want = *tags.of(name);
    for (std::size_t i = 0; i < deploys.size(); ++i) {
      if (deployedTag(deploys[i], name) == want && deploys[i].value("status", "") == "succeeded") good[k] = i;
    }
    if (good[k]) continue;
    auto tried = std::find_if(deploys.rbegin(), deploys.rend(), [&](const json& d) { return deployedTag(d, name) == want; });
    auto last = std::find_if(deploys.rbegin(), deploys.rend(), [&](const json& d) { return touches(d, name); });
    if (tried != deploys.rend()) {
      notDeployed.push_back(fmt::format("its last deploy to {} did not succeed: {}{}", from, tried->value("status", "?"),
                                        tried->contains("reason") ? fmt::format(" ({})", tried->value("reason", "")) : ""));
    } else if (last != deploys.rend()) {
      notDeployed.push_back(fmt::format("{} was never deployed to {}; the last deploy there is {}", want, from, describeDeploy(*last)));
    } else if (!deploys.empty()) {
      notDeployed.push_back(fmt::format("{} was never deployed to {}", want, from));
    } else {
      notDeployed.push_back(fmt::format("nothing was ever deployed to {} (its ledger {}/deploy is empty)", from, ledger));
    }
    notDeployed.back() = name + "\n" + notDeployed.back();
  }
  const std::string expectDeployed = fmt::format("{} deployed successfully to {}, on {}", tag, from, onWhat);
  std::optional<Clock::time_point> ended;
  std::vector<std::string> rollbacks;
  auto once = [](std::vector<std::string>& list, const std::string& s) {
    if (std::find(list.begin(), list.end(), s) == list.end()) list.push_back(s);
  };
  if (!notDeployed.empty()) {
    // One answer for all (the same deploys hold every service), else one per service.
    std::vector<std::string> found;
    bool same = true;
    for (const auto& nd : notDeployed) same = same && nd.substr(nd.find('\n') + 1) == notDeployed.front().substr(notDeployed.front().find('\n') + 1);
    if (same && notDeployed.size() == scope.size()) {
      found.push_back(notDeployed.front().substr(notDeployed.front().find('\n') + 1));
    } else {
      for (const auto& nd : notDeployed) found.push_back(fmt::format("service {}: {}", nd.substr(0, nd.find('\n')), nd.substr(nd.find('\n') + 1)));
    }
    std::string text;
    for (const auto& f : found) text += (text.empty() ? "" : "; ") + f;
    gates.add("deployed", "unmet", expectDeployed, text);
  } else {
    std::vector<std::string> problems;
    std::vector<std::string> goodIds;  // the deploys that hold the promoted tags, each once
    for (std::size_t k = 0; k < scope.size(); ++k) {
      const std::string& name = scope[k]->name;
      const json& d = deploys[*good[k]];
      if (auto e = aws::parseIso8601(d.value("ended", "")); e && (!ended || *e > *ended)) ended = e;
      once(goodIds, fmt::format("deploy {} succeeded at {}", d.value("deploy_id", "?"), d.value("ended", "?")));
      for (std::size_t i = *good[k] + 1; i < deploys.size(); ++i) {
        const json& later = deploys[i];
        if (!touches(later, name)) continue;
        if (later.value("kind", "") == "rollback") {
          once(rollbacks, fmt::format("gops rollback at {} ({})", later.value("ended", later.value("started", "?")), later.value("status", "?")));
        } else if (later.value("status", "") == "in_progress") {
          once(problems, fmt::format("a deploy of {} to {} is in progress since {}", later.value("image_tag", "?"), from, later.value("started", "?")));
        } else if (later.value("status", "") == "succeeded") {
          once(problems, fmt::format("{} was deployed to {} after it, at {}", later.value("image_tag", "?"), from, later.value("ended", "?")));
        } else if (later.value("status", "") != "aborted" && deployedTag(later, name) == *tags.of(name)) {
          // A deploy stopped before any traffic moved changed nothing; a rolled-back one did.
          once(rollbacks, fmt::format("a later deploy of {} was {} at {}", later.value("image_tag", "?"), later.value("status", "?"),
                                      later.value("ended", "?")));
        }
      }
    }
    for (const plan::Service* s : scope) {
      const std::string& name = s->name;
      const std::string want = *tags.of(name);
      auto rec = live::ledgerGet(aws, ledger, "services/" + name);
      if (!rec) {
        problems.push_back(fmt::format("service {} has no deploy in the ledger", name));
        continue;
      }
      if (rec->value("image_tag", "") != want || rec->value("status", "") != "succeeded") {
        problems.push_back(fmt::format("service {}: its last deploy is {} ({})", name, rec->value("image_tag", "?"), rec->value("status", "?")));
        continue;
      }
      json svc = live::describeService(aws, cluster, s->ecsService);
      if (svc.is_null()) {
        problems.push_back(fmt::format("service {} ({}) does not exist in cluster {}", name, s->ecsService, cluster));
        continue;
      }
      std::string running = live::runningTaskDefinition(svc);
      std::string deployed = rec->value("task_definition", "");
      if (running != deployed) {
        problems.push_back(fmt::format("service {} runs {}, not {} (deployed with {})", name, running, deployed, want));
      }
    }
    if (problems.empty()) {
      std::string which;
      for (const auto& g : goodIds) which += (which.empty() ? "" : "; ") + g;
      gates.add("deployed", "met", expectDeployed,
                fmt::format("{}; {} runs its revision", which, tags.scoped() && scope.size() == 1 ? scopeNames : onWhat == "every service" ? "every service" : "each of " + scopeNames));
    } else {
      std::string found;
      for (const auto& p : problems) found += (found.empty() ? "" : "; ") + p;
      gates.add("deployed", "unmet", expectDeployed, found);
    }
    std::string foundRb;
    for (const auto& r : rollbacks) foundRb += (foundRb.empty() ? "" : "; ") + r;
    gates.add("no_rollback", rollbacks.empty() ? "met" : "unmet", fmt::format("no rollback in {} since {} was deployed", from, tag),
              rollbacks.empty() ? "none" : foundRb);
  }
  const bool allGood = notDeployed.empty();

  // 2. No alarm the FROM plan watches is in ALARM now.
  std::vector<std::string> watched;
  for (const plan::Service* s : scope) {
    for (const auto& a : s->watch.allAlarms()) {
      if (std::find(watched.begin(), watched.end(), a) == watched.end()) watched.push_back(a);
    }
  }
  {
    std::vector<std::string> firing, missing;
    for (std::size_t i = 0; i < watched.size(); i += 100) {
      json names = json::array();
      for (std::size_t k = i; k < std::min(watched.size(), i + 100); ++k) names.push_back(watched[k]);
      json r = aws.callJson("monitoring", "DescribeAlarms", {{"AlarmNames", names}});
      std::vector<std::string> seen;
      for (const auto& m : r.value("MetricAlarms", json::array())) {
        seen.push_back(m.value("AlarmName", ""));
        if (m.value("StateValue", "") == "ALARM") {
          std::string since;
          if (m.contains("StateUpdatedTimestamp") && m["StateUpdatedTimestamp"].is_number()) {
            since = fmt::format(" since {}", aws::formatIso8601(Clock::time_point(std::chrono::seconds(m["StateUpdatedTimestamp"].get<long long>()))));
          }
          firing.push_back(fmt::format("{} is in ALARM{} ({})", m.value("AlarmName", ""), since, m.value("StateReason", "")));
        }
      }
      for (const auto& n : names) {
        if (std::find(seen.begin(), seen.end(), n.get<std::string>()) == seen.end()) missing.push_back(n.get<std::string>() + " does not exist");
      }
    }
    std::string found;
    for (const auto& f : firing) found += (found.empty() ? "" : "; ") + f;
    for (const auto& f : missing) found += (found.empty() ? "" : "; ") + f;
    gates.add("alarms", firing.empty() && missing.empty() ? "met" : "unmet",
              fmt::format("no alarm of {} in ALARM ({} watched)", from, watched.size()),
              found.empty() ? (watched.empty() ? "no alarms are watched" : "none in ALARM") : found);
  }

  // 3. The rule's own gates.
  for (const plan::Requirement& g : rule->require) {
    const std::string kind(plan::toString(g.kind));
    switch (g.kind) {
      case plan::GateKind::TestsPassed: {
        // Each distinct tag's result (one, unless the services promoted have tags of their own).
        const std::vector<std::string> distinct = tags.distinct();
        const std::string expected = fmt::format("the tests of {} in {} recorded as passed", fmt::join(distinct, " and "), from);
        std::vector<std::string> unmetFound, metFound;
        for (const auto& t1 : distinct) {
          const std::string of = distinct.size() > 1 ? t1 + ": " : "";
          auto t = live::ledgerGet(aws, ledger, "tests/" + t1);
          if (!t) {
            unmetFound.push_back(of + fmt::format("no test result is recorded ({}/tests/{} does not exist; gops record-tests writes it){}", ledger, t1,
                                                  plan.tests.empty() ? fmt::format("; {} declares no `tests`, so its deploy workflow records none", from)
                                                                     : ""));
          } else if (t->value("result", "") != "passed") {
            unmetFound.push_back(of + fmt::format("recorded as {} at {} by {}{}", t->value("result", "?"), t->value("recorded", "?"),
                                                  t->value("actor", "?"),
                                                  t->value("commit", "").empty() ? "" : fmt::format(" (commit {})", t->value("commit", ""))));
          } else {
            metFound.push_back(of + fmt::format("passed, recorded at {} by {}", t->value("recorded", "?"), t->value("actor", "?")));
          }
        }
        if (!unmetFound.empty()) {
          gates.add(kind, "unmet", expected, fmt::format("{}", fmt::join(unmetFound, "; ")));
        } else {
          gates.add(kind, "met", expected, fmt::format("{}", fmt::join(metFound, "; ")));
        }
        break;
      }
      case plan::GateKind::Soak: {
        long long need = static_cast<long long>(g.seconds);
        const std::string expected = fmt::format("{} in {} for {} since its deploy ended, without a rollback", tag, from, formatSeconds(need));
        if (!allGood) {
          gates.add(kind, "unmet", expected, fmt::format("{} is not deployed to {}, so its soak has not started", tag, from));
        } else if (!ended) {
          gates.add(kind, "unmet", expected, "the ledger does not say when the deploy ended");
        } else {
          long long elapsed = std::chrono::duration_cast<std::chrono::seconds>(now - *ended).count();
          if (!rollbacks.empty()) {
            gates.add(kind, "unmet", expected, fmt::format("rolled back since ({})", rollbacks.front()));
          } else if (elapsed < need) {
            gates.add(kind, "unmet", expected,
                      fmt::format("{} so far (deployed at {}); {} to go", formatSeconds(elapsed), aws::formatIso8601(*ended),
                                  formatSeconds(need - elapsed)));
          } else {
            gates.add(kind, "met", expected, fmt::format("{} since {}", formatSeconds(elapsed), aws::formatIso8601(*ended)));
          }
        }
        break;
      }
      case plan::GateKind::Approval:
        gates.add(kind, "workflow", fmt::format("an approval of the deploy to {}", to),
                  fmt::format("left to the GitHub environment's reviewers ({} environment protection)", to));
        break;
      case plan::GateKind::SecurityScan:
        gates.add(kind, "workflow", fmt::format("the image scan of {} clean", tag),
                  "left to the CI workflow's image scan (Trivy), which fails the build on high and critical findings");
        break;
    }
  }
  return {{"from", from}, {"to", to}, {"image_tag", tag}, {"passed", gates.passed()}, {"gates", gates.result()}};
}

void printPromotion(std::ostream& out, const json& r) {
  const bool passed = r.value("passed", false);
  out << fmt::format("promote {} -> {}, image tag {}\n", r.value("from", ""), r.value("to", ""), r.value("image_tag", ""));
  for (const auto& g : r["gates"]) {
    const std::string status = g.value("status", "");
    const char* mark = status == "met" ? "ok  " : status == "unmet" ? "FAIL" : "--  ";
    out << fmt::format("  {} {:<12} {}\n", mark, g.value("gate", ""), status == "met" || status == "workflow" ? g.value("found", "") : "");
    if (status == "unmet") {
      out << fmt::format("       expected: {}\n       found:    {}\n", g.value("expected", ""), g.value("found", ""));
    }
  }
  int unmet = 0;
  for (const auto& g : r["gates"]) unmet += g.value("status", "") == "unmet";
  out << (passed ? fmt::format("gops promote: {} may be promoted from {} to {}\n", r.value("image_tag", ""), r.value("from", ""), r.value("to", ""))
                 : fmt::format("gops promote: {} may not be promoted from {} to {}: {} gate(s) not met\n", r.value("image_tag", ""),
                               r.value("from", ""), r.value("to", ""), unmet));
}

}  // namespace gops::deploy
