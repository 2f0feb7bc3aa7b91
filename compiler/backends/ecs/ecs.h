#pragma once
/// The ECS backend: per environment, the input documents of the ECS API calls that
/// deploys make (docs/ecs.md describes every field):
///
///   <env>/ecs/<workload>.taskdef.json   RegisterTaskDefinition, per service and job
///   <env>/ecs/<service>.service.json    CreateService, per service
///   <env>/ecs/<service>.<color>.taskset.json
///                                       CreateTaskSet, blue and green, per public service
///                                       whose rollout shifts traffic (EXTERNAL controller)
///
/// It reads the environment's deployment facts (deploy_facts/env_facts.h: names,
/// containers, exposure, task sets), so families, roles, log groups and the cluster
/// are the ones the environment's Terraform module creates. Values that exist only
/// after `terraform apply` are placeholders inside JSON strings: `{{tf:OUTPUT}}` (a
/// string output of `<env>/terraform/main.tf.json`, named by deploy_facts/outputs.h),
/// `{{tf:OUTPUT[i]}}` (element i of a list output) and `{{image_tag}}`.
/// Output is deterministic: keys in a fixed order, 2-space indent, trailing newline.
#include <string>
#include <string_view>

#include "backends/common/output.h"
#include "deploy_facts/containers.h"
#include "deploy_facts/outputs.h"
#include "model/model.h"

namespace gops::backend::ecs {

using backend::File;
using backend::Options;
using backend::Output;

/// The placeholder of the image tag, filled in by deploys.
inline constexpr std::string_view kImageTagPlaceholder = "{{image_tag}}";

/// Task, service and task set definitions of the selected environments.
/// Precondition: `app` comes from a spec without errors. Text copied from the spec
/// that contains `{{` is an error (it would read as a placeholder).
Output generate(const model::AppModel& app, const Options& o = {});

/// `{{tf:<output>}}`, or `{{tf:<output>[<index>]}}` for an element of a list output.
using facts::tfPlaceholder;

/// `text` in the character set of ECS tag values (letters, digits, spaces and
/// `_ . : / = + - @`; anything else becomes `_`), cut to 256 characters.
std::string tagValue(std::string_view text);

/// The container health check command of a service listening on `port`: a
/// `CMD-SHELL` line that asks for `path` on localhost with curl, else wget.
using facts::healthCheckShell;

}  // namespace gops::backend::ecs
