#include "gops/aws/xml.h"

#include <climits>
#include <memory>
#include <mutex>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "gops/aws/error.h"

namespace gops::aws {

namespace {

struct DocDeleter {
  void operator()(xmlDoc* doc) const noexcept { xmlFreeDoc(doc); }
};

const char* asChars(const xmlChar* s) { return reinterpret_cast<const char*>(s); }

XmlElement convert(const xmlNode* node, int depth) {
  if (depth > 256) throw ResponseError("XML response nested too deeply");
  XmlElement element(asChars(node->name), "");
  for (const xmlAttr* attr = node->properties; attr != nullptr; attr = attr->next) {
    xmlChar* value = xmlNodeGetContent(reinterpret_cast<const xmlNode*>(attr));
    element.addAttribute(asChars(attr->name), value != nullptr ? asChars(value) : "");
    xmlFree(value);
  }
  for (const xmlNode* child = node->children; child != nullptr; child = child->next) {
    switch (child->type) {
      case XML_ELEMENT_NODE:
        element.addChild(convert(child, depth + 1));
        break;
      case XML_TEXT_NODE:
      case XML_CDATA_SECTION_NODE:
        if (child->content != nullptr) element.appendText(asChars(child->content));
        break;
      default:
        break;
    }
  }
  return element;
}

}  // namespace

const XmlElement* XmlElement::child(std::string_view name) const noexcept {
  for (const XmlElement& c : children_) {
    if (c.name_ == name) return &c;
  }
  return nullptr;
}

const XmlElement& XmlElement::at(std::string_view name) const {
  if (const XmlElement* c = child(name)) return *c;
  throw ResponseError("XML element <" + name_ + "> has no <" + std::string(name) + "> child");
}

std::optional<std::string> XmlElement::childText(std::string_view name) const {
  if (const XmlElement* c = child(name)) return c->text_;
  return std::nullopt;
}

std::string XmlElement::childTextOr(std::string_view name, std::string fallback) const {
  if (const XmlElement* c = child(name)) return c->text_;
  return fallback;
}

std::vector<const XmlElement*> XmlElement::childrenNamed(std::string_view name) const {
  std::vector<const XmlElement*> out;
  for (const XmlElement& c : children_) {
    if (c.name_ == name) out.push_back(&c);
  }
  return out;
}

const XmlElement* XmlElement::find(std::string_view path) const noexcept {
  const XmlElement* current = this;
  while (!path.empty() && current != nullptr) {
    const auto slash = path.find('/');
    const std::string_view step = path.substr(0, slash);
    if (!step.empty()) current = current->child(step);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  }
  return current;
}

std::optional<std::string> XmlElement::findText(std::string_view path) const {
  if (const XmlElement* e = find(path)) return e->text_;
  return std::nullopt;
}

std::vector<const XmlElement*> XmlElement::members() const { return childrenNamed("member"); }

std::vector<const XmlElement*> XmlElement::members(std::string_view listName) const {
  if (const XmlElement* list = child(listName)) return list->members();
  return {};
}

const std::string* XmlElement::attribute(std::string_view name) const noexcept {
  for (const auto& [key, value] : attributes_) {
    if (key == name) return &value;
  }
  return nullptr;
}

XmlElement& XmlElement::addChild(XmlElement child) {
  children_.push_back(std::move(child));
  return children_.back();
}

void XmlElement::addAttribute(std::string name, std::string value) {
  attributes_.emplace_back(std::move(name), std::move(value));
}

XmlDocument XmlDocument::parse(std::string_view xml) {
  if (xml.size() > static_cast<std::size_t>(INT_MAX)) throw ResponseError("XML response too large");
  static std::once_flag init;
  std::call_once(init, [] { xmlInitParser(); });
  // No network, no DTD loading, no entity substitution; errors are reported by the
  // return value only (no output on stderr).
  const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;
  std::unique_ptr<xmlDoc, DocDeleter> doc(
      xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "response.xml", nullptr, options));
  if (!doc) {
    const xmlError* error = xmlGetLastError();
    std::string detail = error != nullptr && error->message != nullptr ? error->message : "parse error";
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
    throw ResponseError("malformed XML response: " + detail);
  }
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (root == nullptr) throw ResponseError("XML response has no root element");
  XmlDocument out;
  out.root_ = convert(root, 0);
  return out;
}

const XmlElement& XmlDocument::result() const noexcept {
  for (const XmlElement& c : root_.children()) {
    if (c.name().size() > 6 && c.name().ends_with("Result")) return c;
  }
  return root_;
}

std::string XmlDocument::requestId() const {
  if (auto id = root_.findText("ResponseMetadata/RequestId")) return *id;
  return root_.childTextOr("RequestId", "");
}

}  // namespace gops::aws
