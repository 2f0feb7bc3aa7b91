#pragma once
/// The image tags of a deploy (`--image-tag`, docs/runtime.md): one tag for every
/// service and job, and tags of their own for some (`api=v2`). Without a tag for
/// every workload, only the workloads named are deployed; the others keep what runs.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gops::deploy {

/// Whether `tag` is an image tag as registries take it: a letter, digit or `_`, then
/// letters, digits, `_`, `.` and `-`, at most 128 in all.
bool validImageTag(const std::string& tag);

class ImageTags {
 public:
  ImageTags() = default;
  /// Every workload with `tag`.
  explicit ImageTags(std::string tag) : all_(std::move(tag)) {}

  /// From the values of `--image-tag` (repeatable; each may hold several, separated by
  /// `,`): `TAG` for every workload, at most once, and `NAME=TAG` for one. Throws
  /// DeployError for an empty list, a malformed tag or name, two tags for every
  /// workload or two for one name.
  static ImageTags parse(const std::vector<std::string>& values);
  /// The same from one text (what text() writes, and a ledger's `image_tag`); nullopt
  /// when it is not one.
  static std::optional<ImageTags> fromText(const std::string& text);

  /// The tag of the workload `name`, or nullopt when this deploy leaves it alone.
  std::optional<std::string> of(const std::string& name) const;
  /// True when only the workloads named are deployed (no tag for every workload).
  bool scoped() const { return all_.empty(); }
  bool empty() const { return all_.empty() && own_.empty(); }
  /// The tag for every workload; empty when scoped.
  const std::string& all() const { return all_; }
  /// The workloads with a tag of their own, by name.
  const std::map<std::string, std::string>& own() const { return own_; }
  /// Every distinct tag, sorted.
  std::vector<std::string> distinct() const;
  /// `v1`, `api=v2`, `v1,api=v2,worker=v3`: the tag for every workload first, then the
  /// others by name. What the ledger records as the deploy's `image_tag`.
  std::string text() const;

  bool operator==(const ImageTags&) const = default;

 private:
  std::string all_;
  std::map<std::string, std::string> own_;
};

}  // namespace gops::deploy
