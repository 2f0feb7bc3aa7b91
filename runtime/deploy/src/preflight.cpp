// The preflight of an apply or rollback: every check before anything changes
// (docs/runtime.md, What it does 1.).
#include <chrono>
#include <functional>
#include <map>
#include <set>

#include <fmt/format.h>

#include "gops/aws/encoding.h"
#include "session.h"
#include "task_sets.h"

namespace gops::deploy::exec {

std::vector<std::string> Session::preflight() {
  std::vector<std::string> problems;
  auto guard = [&](const std::string& what, const std::function<void()>& f) {
    try {
      f();
    } catch (const aws::AwsError& e) {
      problems.push_back(fmt::format("{}: {}", what, awsMessage(e)));
    } catch (const aws::Error& e) {
      problems.push_back(fmt::format("{}: {}", what, e.what()));
    }
  };
  // 1. The account: nothing else is asked of another account.
  std::string account;
  try {
    account = cli().callQuery("sts", "GetCallerIdentity").result().childTextOr("Account", "");
  } catch (const aws::Error& e) {
    problems.push_back(fmt::format("cannot tell which account the credentials belong to: {}", awsMessage(e)));
    return problems;
  }
  if (account != plan_.account) {
    problems.push_back(fmt::format("the credentials are for account {}, but environment {} is account {}; refusing to deploy",
                                   account, env_, plan_.account));
    return problems;
  }
  // 2. Images and secrets of every task definition.
  std::set<std::string> images, ssmNames, secretIds;
  for (const auto& [rel, doc] : filled_) {
    if (rel.find(".taskdef.json") == std::string::npos) continue;
    for (const auto& c : doc.value("containerDefinitions", json::array())) {
      if (c.contains("image")) images.insert(c["image"].get<std::string>());
      for (const auto& s : c.value("secrets", json::array())) {
        std::string from = s.value("valueFrom", "");
        auto parts = from.find(":ssm:") != std::string::npos ? from.find(":parameter/") : std::string::npos;
        if (parts != std::string::npos) {
          ssmNames.insert(from.substr(parts + std::string(":parameter").size()));
        } else if (auto p = from.find(":secret:"); p != std::string::npos) {
          std::string rest = from.substr(p + 8);
          secretIds.insert(rest.substr(0, rest.find(':')));
        } else if (!from.empty() && from[0] == '/') {
          ssmNames.insert(from);
        }
      }
    }
  }
  if (o_.rollback) images.clear();  // the revision restored is one that ran before
  for (const auto& image : images) {
    // <registry>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>
    auto dkr = image.find(".dkr.ecr.");
    auto slash = image.find('/');
    auto colon = image.rfind(':');
    if (dkr == std::string::npos || slash == std::string::npos || colon == std::string::npos || colon < slash) continue;
    std::string registry = image.substr(0, dkr), repo = image.substr(slash + 1, colon - slash - 1), tag = image.substr(colon + 1);
    try {
      cli().callJson("ecr", "DescribeImages",
                     {{"registryId", registry}, {"repositoryName", repo}, {"imageIds", json::array({{{"imageTag", tag}}})}});
    } catch (const aws::AwsError& e) {
      if (isCode(e, {"ImageNotFoundException", "RepositoryNotFoundException"})) {
        problems.push_back(fmt::format("image {}:{} does not exist in ECR (registry {})", repo, tag, registry));
      } else {
        problems.push_back(fmt::format("image {}:{}: {}", repo, tag, awsMessage(e)));
      }
    } catch (const aws::Error& e) {
      problems.push_back(fmt::format("image {}:{}: {}", repo, tag, e.what()));
    }
  }
  if (!ssmNames.empty()) {
    guard("SSM parameters", [&] {
      std::vector<std::string> names(ssmNames.begin(), ssmNames.end());
      for (std::size_t i = 0; i < names.size(); i += 10) {
        json batch = json::array();
        for (std::size_t j = i; j < names.size() && j < i + 10; ++j) batch.push_back(names[j]);
        json r = cli().callJson("ssm", "GetParameters", {{"Names", batch}});
        for (const auto& missing : r.value("InvalidParameters", json::array())) {
          problems.push_back(fmt::format("SSM parameter {} does not exist", missing.get<std::string>()));
        }
      }
    });
  }
  for (const auto& id : secretIds) {
    try {
      cli().callJson("secretsmanager", "DescribeSecret", {{"SecretId", id}});
    } catch (const aws::AwsError& e) {
      if (e.code() == "ResourceNotFoundException") {
        problems.push_back(fmt::format("secret {} does not exist in Secrets Manager", id));
      } else {
        problems.push_back(fmt::format("secret {}: {}", id, awsMessage(e)));
      }
    } catch (const aws::Error& e) {
      problems.push_back(fmt::format("secret {}: {}", id, e.what()));
    }
  }
  // 3. The cluster (with the capacity providers the services and task sets name),
  // target groups and listener rules.
  std::map<std::string, std::set<std::string>> providers;  // capacity provider -> the services naming it
  for (const auto& [rel, doc] : filled_) {
    if (rel.find(".service.json") == std::string::npos && rel.find(".taskset.json") == std::string::npos) continue;
    // ecs/<service>.service.json, ecs/<service>.<color>.taskset.json
    const std::string file = rel.substr(rel.rfind('/') + 1);
    for (const auto& share : doc.value("capacityProviderStrategy", json::array())) {
      providers[share.value("capacityProvider", "")].insert(file.substr(0, file.find('.')));
    }
  }
  guard("cluster " + cluster_, [&] {
    json r = cli().callJson("ecs", "DescribeClusters", {{"clusters", json::array({cluster_})}});
    const json clusters = r.value("clusters", json::array());
    const json* active = nullptr;
    for (const auto& c : clusters) {
      if (c.value("status", "") == "ACTIVE") active = &c;
    }
    if (!active) {
      problems.push_back(fmt::format("the ECS cluster {} does not exist (run terraform apply first)", cluster_));
      return;
    }
    // A cluster the environment creates gets them from Terraform; an existing one
    // (`cluster = existing(...)`) must have them, or ECS refuses the service or task set.
    std::set<std::string> has;
    for (const auto& p : active->value("capacityProviders", json::array())) has.insert(p.get<std::string>());
    for (const auto& [provider, services] : providers) {
      if (has.count(provider)) continue;
      std::string names;
      for (const auto& name : services) names += (names.empty() ? "" : ", ") + name;
      problems.push_back(fmt::format("the ECS cluster {} has no capacity provider {}, which {} {} {} on; add it to the "
                                     "cluster (PutClusterCapacityProviders, or the Terraform that manages the cluster)",
                                     cluster_, provider, services.size() == 1 ? "service" : "services", names,
                                     services.size() == 1 ? "runs" : "run"));
    }
  });
  for (const auto& wave : waves_) {
    for (const plan::Service* s : wave) {
      if (!s->traffic) continue;
      for (const plan::TargetGroup* tg : {&s->traffic->blue, &s->traffic->green}) {
        std::string arn = fill(tg->arn);
        guard(fmt::format("target group {}", tg->name), [&] {
          aws::QueryParams p{{"TargetGroupArns.member.1", arn}};
          cli().callQuery("elasticloadbalancing", "DescribeTargetGroups", p);
        });
      }
      for (const auto& rule : s->traffic->listenerRules) {
        std::string arn = fill(rule);
        guard(fmt::format("listener rule {}", arn), [&] {
          aws::QueryParams p{{"RuleArns.member.1", arn}};
          cli().callQuery("elasticloadbalancing", "DescribeRules", p);
        });
      }
    }
  }
  // A comparison with the stable version is judged by the alarm of the colour the new
  // version goes behind, the idle one: outside a deploy that colour serves nothing, so
  // its alarm has no verdict of its own. In ALARM, it is left from the last deploy into
  // that colour (a rollback), and a deploy watching it would be rolled back at once.
  if (!o_.rollback && !o_.resume) {
    for (const auto& wave : waves_) {
      for (const plan::Service* s : wave) {
        if (!s->traffic || !s->watch.byNewColor()) continue;
        guard(fmt::format("the alarms of service {}", s->name), [&] {
          std::map<std::string, int> w = readListenerWeights(cli(), fill(s->traffic->listenerRules.at(0)));
          // The stable group is the one the rule sends traffic to (task_sets.cpp, observe).
          const bool greenLive = w[fill(s->traffic->green.arn)] > w[fill(s->traffic->blue.arn)];
          const plan::Color idle = greenLive ? plan::Color::Blue : plan::Color::Green;
          const std::vector<std::string>& names = idle == plan::Color::Blue ? s->watch.newBlue : s->watch.newGreen;
          json r = cli().callJson("monitoring", "DescribeAlarms", {{"AlarmNames", names}});
          for (const auto& m : r.value("MetricAlarms", json::array())) {
            if (m.value("StateValue", "") != "ALARM") continue;
            std::string since;
            if (m.contains("StateUpdatedTimestamp") && m["StateUpdatedTimestamp"].is_number()) {
              since = fmt::format(" since {}", aws::formatIso8601(Clock::time_point(std::chrono::seconds(
                                                    m["StateUpdatedTimestamp"].get<long long>()))));
            }
            problems.push_back(fmt::format(
                "service {}: alarm {} is in ALARM{}, left by an earlier deploy into {}, where this deploy's new version goes; "
                "it leaves ALARM once the minutes it judged are older than its evaluation range (a few minutes): apply again then",
                s->name, m.value("AlarmName", ""), since, plan::toString(idle)));
          }
        });
      }
    }
  }
  // 4. The lock (--if-dead: taking it tells; a live holder means nothing is dead).
  bool locked = false;
  if (!o_.ifDead) guard("the lock", [&] {
    if (auto lock = lock_.heldByAnother()) {
      locked = true;
      problems.push_back(fmt::format("environment {} is locked by another {} ({}); try again when it has finished", env_,
                                     lock->value("command", "apply"), Lock::describe(*lock)));
    }
  });
  // 5. The last deploy did not die half-way (its task sets would still serve traffic):
  //    a plain apply is refused with the commands that fix it.
  if (!o_.rollback && !o_.resume && !locked) {
    guard("the last deploy", [&] {
      std::string alive;
      if (auto dead = findDeadDeploy(alive)) problems.push_back(deadDeployProblem(*dead));
    });
  }
  return problems;
}

}  // namespace gops::deploy::exec
