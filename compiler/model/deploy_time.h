#pragma once
/// How long an environment's deploy runs, and the limits it runs under: one fact for
/// the checker (W0511), the deploy workflow (its job's `timeout-minutes` and the
/// credentials' `role-duration-seconds`) and the deploy role (`max_session_duration`),
/// so that what the checker accepts is what the generated files allow.
///
/// A deploy runs the plan's waves one after another (a service after every service it
/// depends on, the services of one wave at the same time), so it lasts as long as the
/// longest rollout of each wave, added up; a service's `before_deploy` task counts in
/// its rollout, at most its timeout. Only the holds and bakes are known ahead;
/// the waits for a steady state, the settles after each shift and the tests after the
/// apply are covered by a fixed margin.
#include <string>
#include <vector>

#include "model/model.h"

namespace gops::model {

/// GitHub-hosted jobs stop after 6 hours.
inline constexpr int kGithubJobLimitMinutes = 360;
/// The range of an IAM role's `max_session_duration` (and of the sessions it gives).
inline constexpr int kRoleSessionMinSeconds = 3600;
inline constexpr int kRoleSessionMaxSeconds = 43200;
/// What the holds and bakes do not count: waits for steady states, settles, the tests.
inline constexpr int kDeployMarginMinutes = 30;
/// How long an `on_push` deploy waits for its images to appear in ECR.
inline constexpr int kImageWaitMinutes = 30;

/// The services in deployment waves: each wave's services deploy at the same time,
/// after every service they depend on (in earlier waves); sorted by name within a
/// wave. The checker reports cycles; here a cycle never loops.
std::vector<std::vector<std::string>> deployWaves(const Environment& env);

struct DeployLimits {
  int waves = 0;
  /// The holds and bakes of the waves, one after another, each its longest rollout's.
  double rolloutSeconds = 0;
  /// What the deploy job needs: the rollout, the margin, and for an `on_push`
  /// environment the wait for its images, in whole minutes.
  int jobMinutesNeeded = 0;
  /// The deploy job's `timeout-minutes`: what it needs, at most GitHub's limit.
  int jobTimeoutMinutes = 0;
  /// The deploy role's `max_session_duration` and the deploy job's
  /// `role-duration-seconds`: the whole job, within IAM's 1 to 12 hours.
  int sessionSeconds = 0;

  /// The job would be stopped before a deploy that takes what it needs could end.
  bool exceedsJob() const { return jobMinutesNeeded > kGithubJobLimitMinutes; }
  /// No role session lasts as long as the job would need.
  bool exceedsSession() const { return jobMinutesNeeded * 60 > kRoleSessionMaxSeconds; }
};

DeployLimits deployLimits(const Environment& env);

}  // namespace gops::model
