#pragma once
/// Facts about AWS the checker needs: regions, Fargate sizes, log retention values,
/// and the metrics `rollback when` understands.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gops::sema {

struct RegionInfo {
  std::string_view name;
  int zones;  ///< availability zones a new account can use
};
const std::vector<RegionInfo>& regions();
const RegionInfo* findRegion(std::string_view name);
/// The AWS partition a region belongs to: "aws", "aws-cn" or "aws-us-gov".
std::string partitionOfRegion(std::string_view region);
/// Whether `id` is an AWS resource id `<prefix>-` and 8 or 17 lower-case hex digits
/// (`vpc-0abc1234`, `fs-0123456789abcdef0`; access points `fsap-` take 17 only).
bool validResourceId(std::string_view id, std::string_view prefix);

/// Memory sizes (MiB) Fargate offers for a CPU size (CPU units); empty if the CPU
/// size itself is not offered.
std::vector<int> fargateMemoryFor(int cpuUnits);
const std::vector<int>& fargateCpuSizes();
bool fargateValid(int cpuUnits, int memoryMiB);
/// "2048-8192 MiB in 1024 MiB steps" for messages.
std::string fargateMemoryDescription(int cpuUnits);

/// Retention periods CloudWatch Logs accepts, in days.
const std::vector<int>& logRetentionDays();

enum class MetricUnit { Percent, Duration, Count };

struct MetricInfo {
  std::string_view name;
  MetricUnit unit;
  bool needsLoadBalancer;  ///< measured at the ALB target group
  /// Measured per target group, so for each version apart: `rollback when M > stable + X`
  /// compares the new version with the stable one.
  bool perVersion;
  std::string_view doc;
};
const std::vector<MetricInfo>& metrics();
const MetricInfo* findMetric(std::string_view name);

}  // namespace gops::sema
