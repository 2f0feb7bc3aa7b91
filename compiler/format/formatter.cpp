#include "format/formatter.h"

namespace gops::format {

std::string formatFile(const SourceFile& file, const ast::File&) { return file.text(); }

}  // namespace gops::format
