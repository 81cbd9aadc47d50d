// Fenced code block ranges through md4c's callbacks; see markdown_blocks.h.
#include "services/gateway/markdown_blocks.h"

#include <algorithm>
#include <optional>

#include "md4c.h"

namespace clawdie::gateway {
namespace {

struct Scan {
  std::string_view text;
  std::vector<FencedBlock> blocks;
  bool in_fence = false;
  std::string opener;
  std::optional<size_t> first;  // first content byte seen in the current block
  size_t last = 0;              // end of the last content byte
};

// md4c hands out pointers into the document for content, and into its own static strings
// for synthesized indentation and newlines; only the former locate the block.
bool InDocument(const Scan& scan, const MD_CHAR* p) {
  return p >= scan.text.data() && p < scan.text.data() + scan.text.size();
}

size_t LineStart(std::string_view text, size_t pos) {
  size_t nl = pos == 0 ? std::string_view::npos : text.rfind('\n', pos - 1);
  return nl == std::string_view::npos ? 0 : nl + 1;
}

size_t LineEnd(std::string_view text, size_t pos) {
  size_t nl = text.find('\n', pos);
  return nl == std::string_view::npos ? text.size() : nl + 1;
}

int EnterBlock(MD_BLOCKTYPE type, void* detail, void* userdata) {
  auto* scan = static_cast<Scan*>(userdata);
  auto* code = static_cast<MD_BLOCK_CODE_DETAIL*>(detail);
  if (type != MD_BLOCK_CODE || code->fence_char == 0) return 0;
  scan->in_fence = true;
  scan->opener = std::string(3, code->fence_char) + std::string(code->info.text, code->info.size);
  scan->first.reset();
  return 0;
}

int LeaveBlock(MD_BLOCKTYPE type, void* detail, void* userdata) {
  auto* scan = static_cast<Scan*>(userdata);
  if (type != MD_BLOCK_CODE || !scan->in_fence) return 0;
  scan->in_fence = false;
  if (!scan->first) return 0;
  FencedBlock block;
  size_t content_line = LineStart(scan->text, *scan->first);
  block.begin = content_line == 0 ? 0 : LineStart(scan->text, content_line - 1);
  size_t content_end = LineEnd(scan->text, scan->last == 0 ? 0 : scan->last - 1);
  block.end = LineEnd(scan->text, content_end);
  block.opener = scan->opener;
  scan->blocks.push_back(block);
  return 0;
}

int Span(MD_SPANTYPE, void*, void*) { return 0; }

int Text(MD_TEXTTYPE type, const MD_CHAR* text, MD_SIZE size, void* userdata) {
  auto* scan = static_cast<Scan*>(userdata);
  if (!scan->in_fence || !InDocument(*scan, text) || size == 0) return 0;
  size_t offset = static_cast<size_t>(text - scan->text.data());
  if (!scan->first) scan->first = offset;
  scan->last = std::max(scan->last, offset + size);
  return 0;
}

}  // namespace

unsigned TelegramMarkdownFlags() {
  return MD_FLAG_NOHTML | MD_FLAG_STRIKETHROUGH | MD_FLAG_PERMISSIVEURLAUTOLINKS | MD_FLAG_TABLES;
}

std::vector<FencedBlock> FindFencedBlocks(std::string_view text) {
  Scan scan;
  scan.text = text;
  MD_PARSER parser{};
  parser.abi_version = 0;
  parser.flags = TelegramMarkdownFlags();
  parser.enter_block = EnterBlock;
  parser.leave_block = LeaveBlock;
  parser.enter_span = Span;
  parser.leave_span = Span;
  parser.text = Text;
  md_parse(text.data(), static_cast<MD_SIZE>(text.size()), &parser, &scan);
  return scan.blocks;
}

}  // namespace clawdie::gateway
