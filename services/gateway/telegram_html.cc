// Markdown → Telegram HTML through md4c's callbacks; see telegram_html.h.
#include "services/gateway/telegram_html.h"

#include <vector>

#include "md4c.h"
#include "services/gateway/markdown_blocks.h"

namespace clawdie::gateway {
namespace {

struct ListState {
  bool ordered = false;
  unsigned next = 1;
  bool tight = true;
};

struct Renderer {
  std::string out;
  std::vector<ListState> lists;
  int quote_depth = 0;
  bool in_code_block = false;
  bool in_image = false;
  bool block_pending = false;  // a block ended; separate the next one
  bool after_item = false;     // a list item ended
  int cells_in_row = 0;

  void Separate() {
    if (out.empty()) {
      block_pending = after_item = false;
      return;
    }
    if (block_pending)
      out += lists.empty() || !lists.back().tight ? "\n\n" : "\n";
    else if (after_item)
      out += "\n";
    block_pending = after_item = false;
  }
};

void AppendEscaped(std::string* out, std::string_view text, bool attribute) {
  for (char c : text) {
    switch (c) {
      case '&':
        *out += "&amp;";
        break;
      case '<':
        *out += "&lt;";
        break;
      case '>':
        *out += "&gt;";
        break;
      case '"':
        *out += attribute ? "&quot;" : "\"";
        break;
      default:
        *out += c;
    }
  }
}

// Attribute text with md4c's entity substrings passed through only when Telegram knows them.
std::string AttributeText(const MD_ATTRIBUTE& attr) {
  std::string out;
  for (unsigned i = 0; attr.substr_offsets[i] < attr.size; ++i) {
    std::string_view part(attr.text + attr.substr_offsets[i],
                          attr.substr_offsets[i + 1] - attr.substr_offsets[i]);
    if (attr.substr_types[i] == MD_TEXT_NULLCHAR)
      out += "\xEF\xBF\xBD";
    else
      AppendEscaped(&out, part, true);
  }
  return out;
}

void EnterList(Renderer* r, MD_BLOCKTYPE type, void* detail) {
  ListState state;
  if (type == MD_BLOCK_OL) {
    auto* ol = static_cast<MD_BLOCK_OL_DETAIL*>(detail);
    state = {true, ol->start, ol->is_tight != 0};
  } else {
    state.tight = static_cast<MD_BLOCK_UL_DETAIL*>(detail)->is_tight != 0;
  }
  // A top-level list is a block; a nested one starts on its own line inside the item.
  if (r->lists.empty())
    r->Separate();
  else
    r->after_item = true;
  r->lists.push_back(state);
}

void EnterItem(Renderer* r) {
  r->Separate();
  ListState& list = r->lists.back();
  r->out += std::string(2 * (r->lists.size() - 1), ' ');
  r->out += list.ordered ? std::to_string(list.next++) + ". " : "• ";
}

void EnterCode(Renderer* r, void* detail) {
  auto* code = static_cast<MD_BLOCK_CODE_DETAIL*>(detail);
  r->in_code_block = true;
  std::string lang = AttributeText(code->lang);
  r->out += lang.empty() ? "<pre>" : "<pre><code class=\"language-" + lang + "\">";
}

int EnterBlock(MD_BLOCKTYPE type, void* detail, void* userdata) {
  auto* r = static_cast<Renderer*>(userdata);
  switch (type) {
    case MD_BLOCK_UL:
    case MD_BLOCK_OL:
      EnterList(r, type, detail);
      return 0;
    case MD_BLOCK_LI:
      EnterItem(r);
      return 0;
    case MD_BLOCK_DOC:
    case MD_BLOCK_TABLE:
    case MD_BLOCK_THEAD:
    case MD_BLOCK_TBODY:
      return 0;
    case MD_BLOCK_TH:
    case MD_BLOCK_TD:
      if (r->cells_in_row++ > 0) r->out += " | ";
      return 0;
    default:
      break;
  }
  // Paragraphs inside a tight list item continue the item's line.
  bool item_text = type == MD_BLOCK_P && !r->lists.empty() && !r->block_pending;
  if (!item_text) r->Separate();
  switch (type) {
    case MD_BLOCK_QUOTE:
      r->out += "<blockquote>";
      ++r->quote_depth;
      break;
    case MD_BLOCK_H:
      r->out += "<b>";
      break;
    case MD_BLOCK_CODE:
      EnterCode(r, detail);
      break;
    case MD_BLOCK_HR:
      r->out += "———";
      break;
    case MD_BLOCK_TR:
      r->cells_in_row = 0;
      break;
    default:
      break;
  }
  return 0;
}

int LeaveBlock(MD_BLOCKTYPE type, void* detail, void* userdata) {
  auto* r = static_cast<Renderer*>(userdata);
  switch (type) {
    case MD_BLOCK_UL:
    case MD_BLOCK_OL:
      r->lists.pop_back();
      r->block_pending = true;
      r->after_item = false;
      return 0;
    case MD_BLOCK_LI:
      r->after_item = true;
      r->block_pending = false;
      return 0;
    case MD_BLOCK_TH:
    case MD_BLOCK_TD:
    case MD_BLOCK_THEAD:
    case MD_BLOCK_TBODY:
    case MD_BLOCK_DOC:
      return 0;
    case MD_BLOCK_TR:
      r->after_item = true;
      return 0;
    case MD_BLOCK_QUOTE:
      r->out += "</blockquote>";
      --r->quote_depth;
      break;
    case MD_BLOCK_H:
      r->out += "</b>";
      break;
    case MD_BLOCK_CODE: {
      auto* code = static_cast<MD_BLOCK_CODE_DETAIL*>(detail);
      // md4c ends code text with a newline Telegram would show as an empty last line.
      if (r->out.size() > 0 && r->out.back() == '\n') r->out.pop_back();
      r->out += code->lang.size > 0 ? "</code></pre>" : "</pre>";
      r->in_code_block = false;
      break;
    }
    default:
      break;
  }
  r->block_pending = true;
  return 0;
}

int EnterSpan(MD_SPANTYPE type, void* detail, void* userdata) {
  auto* r = static_cast<Renderer*>(userdata);
  if (r->in_image) return 0;
  switch (type) {
    case MD_SPAN_EM:
      r->out += "<i>";
      break;
    case MD_SPAN_STRONG:
      r->out += "<b>";
      break;
    case MD_SPAN_DEL:
      r->out += "<s>";
      break;
    case MD_SPAN_CODE:
      r->out += "<code>";
      break;
    case MD_SPAN_U:
      r->out += "<u>";
      break;
    case MD_SPAN_A:
      r->out += "<a href=\"" + AttributeText(static_cast<MD_SPAN_A_DETAIL*>(detail)->href) + "\">";
      break;
    case MD_SPAN_IMG:
      // Telegram messages hold no inline images: link the image, its alt text as label.
      r->out += "<a href=\"" + AttributeText(static_cast<MD_SPAN_IMG_DETAIL*>(detail)->src) + "\">";
      r->in_image = true;
      break;
    default:
      break;
  }
  return 0;
}

int LeaveSpan(MD_SPANTYPE type, void* detail, void* userdata) {
  auto* r = static_cast<Renderer*>(userdata);
  if (r->in_image && type != MD_SPAN_IMG) return 0;
  switch (type) {
    case MD_SPAN_EM:
      r->out += "</i>";
      break;
    case MD_SPAN_STRONG:
      r->out += "</b>";
      break;
    case MD_SPAN_DEL:
      r->out += "</s>";
      break;
    case MD_SPAN_CODE:
      r->out += "</code>";
      break;
    case MD_SPAN_U:
      r->out += "</u>";
      break;
    case MD_SPAN_A:
      r->out += "</a>";
      break;
    case MD_SPAN_IMG:
      r->out += "</a>";
      r->in_image = false;
      break;
    default:
      break;
  }
  return 0;
}

// Named entities Telegram's HTML parser does not know are shown as typed.
bool TelegramKnowsEntity(std::string_view entity) {
  return entity == "&lt;" || entity == "&gt;" || entity == "&amp;" || entity == "&quot;" ||
         (entity.size() > 3 && entity[1] == '#');
}

int Text(MD_TEXTTYPE type, const MD_CHAR* text, MD_SIZE size, void* userdata) {
  auto* r = static_cast<Renderer*>(userdata);
  std::string_view s(text, size);
  switch (type) {
    case MD_TEXT_NULLCHAR:
      r->out += "\xEF\xBF\xBD";
      break;
    case MD_TEXT_BR:
    case MD_TEXT_SOFTBR:
      r->out += "\n";
      break;
    case MD_TEXT_ENTITY:
      if (TelegramKnowsEntity(s))
        r->out += s;
      else
        AppendEscaped(&r->out, s, false);
      break;
    default:
      AppendEscaped(&r->out, s, false);
  }
  return 0;
}

}  // namespace

std::string EscapeTelegramHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  AppendEscaped(&out, text, true);
  return out;
}

std::string MarkdownToTelegramHtml(std::string_view markdown) {
  Renderer renderer;
  MD_PARSER parser{};
  parser.abi_version = 0;
  parser.flags = TelegramMarkdownFlags();
  parser.enter_block = EnterBlock;
  parser.leave_block = LeaveBlock;
  parser.enter_span = EnterSpan;
  parser.leave_span = LeaveSpan;
  parser.text = Text;
  if (md_parse(markdown.data(), static_cast<MD_SIZE>(markdown.size()), &parser, &renderer) != 0) {
    return EscapeTelegramHtml(markdown);
  }
  return renderer.out;
}

std::string RenderChunkHtml(const Chunk& chunk) {
  if (chunk.reopen_fence.empty()) return MarkdownToTelegramHtml(chunk.text);
  return MarkdownToTelegramHtml(chunk.reopen_fence + "\n" + chunk.text);
}

}  // namespace clawdie::gateway
