#include "sema/tables.h"

#include <algorithm>

#include <fmt/format.h>

namespace gops::sema {

const std::vector<RegionInfo>& regions() {
  // Commercial, GovCloud and China regions with the number of zones open to new accounts.
  static const std::vector<RegionInfo> kRegions = {
      {"af-south-1", 3},     {"ap-east-1", 3},      {"ap-east-2", 3},      {"ap-northeast-1", 3}, {"ap-northeast-2", 4},
      {"ap-northeast-3", 3}, {"ap-south-1", 3},     {"ap-south-2", 3},     {"ap-southeast-1", 3}, {"ap-southeast-2", 3},
      {"ap-southeast-3", 3}, {"ap-southeast-4", 3}, {"ap-southeast-5", 3}, {"ap-southeast-7", 3}, {"ca-central-1", 3},
      {"ca-west-1", 3},      {"cn-north-1", 3},     {"cn-northwest-1", 3}, {"eu-central-1", 3},   {"eu-central-2", 3},
      {"eu-north-1", 3},     {"eu-south-1", 3},     {"eu-south-2", 3},     {"eu-west-1", 3},      {"eu-west-2", 3},
      {"eu-west-3", 3},      {"il-central-1", 3},   {"me-central-1", 3},   {"me-south-1", 3},     {"mx-central-1", 3},
      {"sa-east-1", 3},      {"us-east-1", 6},      {"us-east-2", 3},      {"us-gov-east-1", 3},  {"us-gov-west-1", 3},
      {"us-west-1", 2},      {"us-west-2", 4},
  };
  return kRegions;
}

bool validResourceId(std::string_view id, std::string_view prefix) {
  if (id.size() <= prefix.size() + 1 || id.substr(0, prefix.size()) != prefix || id[prefix.size()] != '-') return false;
  std::string_view hex = id.substr(prefix.size() + 1);
  if (hex.size() != 17 && (hex.size() != 8 || prefix == "fsap")) return false;
  return std::all_of(hex.begin(), hex.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string partitionOfRegion(std::string_view region) {
  if (region.rfind("cn-", 0) == 0) return "aws-cn";
  if (region.rfind("us-gov-", 0) == 0) return "aws-us-gov";
  return "aws";
}

const RegionInfo* findRegion(std::string_view name) {
  for (const auto& r : regions()) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

namespace {
struct FargateRow {
  int cpu;
  int minMemory;
  int maxMemory;
  int step;
};
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
constexpr FargateRow kFargate[] = {
    {256, 512, 2048, 0},  // 512, 1024, 2048
    {512, 1024, 4096, 1024},
    {1024, 2048, 8192, 1024},
    {2048, 4096, 16384, 1024},
    {4096, 8192, 30720, 1024},
    {8192, 16384, 61440, 4096},
    {16384, 32768, 122880, 8192},
};
}  // namespace

std::vector<int> fargateMemoryFor(int cpuUnits) {
  for (const auto& row : kFargate) {
    if (row.cpu != cpuUnits) continue;
    if (row.step == 0) return {512, 1024, 2048};
    std::vector<int> out;
    for (int m = row.minMemory; m <= row.maxMemory; m += row.step) out.push_back(m);
    return out;
  }
  return {};
}

const std::vector<int>& fargateCpuSizes() {
  static const std::vector<int> kSizes = {256, 512, 1024, 2048, 4096, 8192, 16384};
  return kSizes;
}

bool fargateValid(int cpuUnits, int memoryMiB) {
  for (int m : fargateMemoryFor(cpuUnits)) {
    if (m == memoryMiB) return true;
  }
  return false;
}

std::string fargateMemoryDescription(int cpuUnits) {
  for (const auto& row : kFargate) {
    if (row.cpu != cpuUnits) continue;
    if (row.step == 0) return "512 MiB, 1 GiB or 2 GiB";
    return fmt::format("{} GiB to {} GiB in {} GiB steps", row.minMemory / 1024, row.maxMemory / 1024, row.step / 1024);
  }
  return {};
}

const std::vector<int>& logRetentionDays() {
  static const std::vector<int> kDays = {1,   3,   5,   7,   14,  30,   60,   90,   120,  150,  180,
                                         365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653};
  return kDays;
}

const std::vector<MetricInfo>& metrics() {
  static const std::vector<MetricInfo> kMetrics = {
      {"http_5xx_rate", MetricUnit::Percent, true, true,
       "Share of requests the service's targets answered with HTTP 5xx, in percent (ALB HTTPCode_Target_5XX_Count / RequestCount)."},
      {"http_4xx_rate", MetricUnit::Percent, true, true,
       "Share of requests the service's targets answered with HTTP 4xx, in percent (ALB HTTPCode_Target_4XX_Count / RequestCount)."},
      {"p50_latency", MetricUnit::Duration, true, true, "Median target response time (ALB TargetResponseTime, p50)."},
      {"p95_latency", MetricUnit::Duration, true, true, "95th percentile target response time (ALB TargetResponseTime, p95)."},
      {"p99_latency", MetricUnit::Duration, true, true, "99th percentile target response time (ALB TargetResponseTime, p99)."},
      {"cpu", MetricUnit::Percent, false, false, "Average CPU utilisation of the service's tasks, in percent (ECS CPUUtilization)."},
      {"memory", MetricUnit::Percent, false, false, "Average memory utilisation of the service's tasks, in percent (ECS MemoryUtilization)."},
      {"unhealthy_targets", MetricUnit::Count, true, false, "Number of targets the load balancer considers unhealthy (ALB UnHealthyHostCount)."},
  };
  return kMetrics;
}

const MetricInfo* findMetric(std::string_view name) {
  for (const auto& m : metrics()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

}  // namespace gops::sema
