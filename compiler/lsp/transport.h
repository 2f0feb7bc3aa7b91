#pragma once
/// The byte layer of the language server: reading and writing JSON-RPC messages on
/// file descriptors. Knows nothing of JSON or LSP.
///
/// Two input styles:
///  - Standard: `Content-Length: N\r\n\r\n` headers then N bytes (what editors speak).
///  - Delimited (for tests): messages separated by a line `---`; lines starting with
///    `#` are comments. A session can be written by hand in a lit test.
/// Output always uses Content-Length headers; in delimited style each message is
/// followed by a newline so FileCheck sees one message per block.
#include <optional>
#include <string>

namespace gops::lsp {

enum class InputStyle { Standard, Delimited };

class Transport {
 public:
  Transport(int in, int out, InputStyle style) : in_(in), out_(out), style_(style) {}

  /// The next message body, or nullopt at end of input. A malformed header skips
  /// to the next header; it never throws.
  std::optional<std::string> read();
  /// Whether a message can be read without blocking for `timeoutMs`.
  bool waitReadable(int timeoutMs);
  void write(const std::string& body);
  InputStyle style() const { return style_; }

 private:
  /// Reads more bytes into the buffer; false at end of input.
  bool fill();
  std::optional<std::string> readLine();
  std::optional<std::string> readStandard();
  std::optional<std::string> readDelimited();

  int in_;
  int out_;
  InputStyle style_;
  std::string buf_;
  std::size_t pos_ = 0;
  bool eof_ = false;
};

}  // namespace gops::lsp
