#pragma once

// A small read-only XML tree for AWS query-protocol responses, built with libxml2.
//
// Query responses look like
//   <DescribeLoadBalancersResponse xmlns="...">
//     <DescribeLoadBalancersResult>
//       <LoadBalancers><member><LoadBalancerArn>...</LoadBalancerArn></member>...</LoadBalancers>
//       <NextMarker>...</NextMarker>
//     </DescribeLoadBalancersResult>
//     <ResponseMetadata><RequestId>...</RequestId></ResponseMetadata>
//   </DescribeLoadBalancersResponse>
// and are read as doc.result().members("LoadBalancers"), m->childText("LoadBalancerArn").

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gops::aws {

/// One element. Names are local names: namespace prefixes and URIs are dropped, which is
/// what reading AWS responses needs.
class XmlElement {
 public:
  XmlElement() = default;
  XmlElement(std::string name, std::string text) : name_(std::move(name)), text_(std::move(text)) {}

  const std::string& name() const noexcept { return name_; }
  /// The concatenated text and CDATA directly inside this element (entities decoded).
  const std::string& text() const noexcept { return text_; }
  const std::vector<XmlElement>& children() const noexcept { return children_; }
  const std::vector<std::pair<std::string, std::string>>& attributes() const noexcept {
    return attributes_;
  }

  /// The first direct child called `name`, or nullptr.
  const XmlElement* child(std::string_view name) const noexcept;
  /// The first direct child called `name`; throws ResponseError when there is none.
  const XmlElement& at(std::string_view name) const;
  /// The text of child `name`, or nullopt when there is no such child.
  std::optional<std::string> childText(std::string_view name) const;
  /// The text of child `name`, or `fallback`.
  std::string childTextOr(std::string_view name, std::string fallback) const;
  /// Every direct child called `name`, in document order.
  std::vector<const XmlElement*> childrenNamed(std::string_view name) const;
  /// Follows a '/'-separated path of child names ("ResponseMetadata/RequestId") through
  /// the first match at each step; nullptr when a step is missing.
  const XmlElement* find(std::string_view path) const noexcept;
  /// The text at find(path), or nullopt.
  std::optional<std::string> findText(std::string_view path) const;
  /// The `<member>` children of this element (a query-protocol list).
  std::vector<const XmlElement*> members() const;
  /// The `<member>` children of child `listName`; empty when the list is absent.
  std::vector<const XmlElement*> members(std::string_view listName) const;
  /// The value of attribute `name` (local name), or nullptr.
  const std::string* attribute(std::string_view name) const noexcept;

  // Building (used by the parser).
  XmlElement& addChild(XmlElement child);
  void appendText(std::string_view text) { text_.append(text); }
  void addAttribute(std::string name, std::string value);

 private:
  std::string name_;
  std::string text_;
  std::vector<XmlElement> children_;
  std::vector<std::pair<std::string, std::string>> attributes_;
};

/// A parsed document.
class XmlDocument {
 public:
  /// Parses `xml` with libxml2 (no network access, no external entities, no DTD
  /// loading). Throws ResponseError on malformed input.
  static XmlDocument parse(std::string_view xml);

  const XmlElement& root() const noexcept { return root_; }
  /// For query responses: the root's `<...Result>` child (the one whose name ends in
  /// "Result"), or the root itself when there is none (e.g. empty results).
  const XmlElement& result() const noexcept;
  /// ResponseMetadata/RequestId (or RequestId directly under the root), or "".
  std::string requestId() const;

 private:
  XmlElement root_;
};

}  // namespace gops::aws
