// Plain-text tables for clawctl's human output: a header row and aligned
// columns separated by two spaces, one line per row, no trailing blanks.
// Widths count UTF-8 code points, so names in any script stay aligned as long
// as the terminal shows each code point one column wide.
//
// Thread-safety: a Table is a value; distinct tables may be used from distinct threads.
#ifndef CLAWDIE_SERVICES_CLAWCTL_TABLE_H_
#define CLAWDIE_SERVICES_CLAWCTL_TABLE_H_

#include <cstddef>
#include <string>
#include <vector>

namespace clawdie::clawctl {

// Number of UTF-8 code points in `text` (continuation bytes are not counted).
size_t CodePointCount(const std::string& text);

// Makes `text` fit one table cell: control characters (newlines, tabs) become spaces and a
// text longer than `max_code_points` is cut to `max_code_points - 1` code points plus "…".
// `max_code_points` 0 means no limit.
std::string OneLine(const std::string& text, size_t max_code_points = 0);

class Table {
 public:
  explicit Table(std::vector<std::string> headers);

  // Adds a row; missing cells are empty, extra cells are dropped. Cells go through OneLine.
  void AddRow(std::vector<std::string> cells);

  size_t row_count() const { return rows_.size(); }

  // The header line and one line per row, each ending in '\n'.
  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace clawdie::clawctl

#endif  // CLAWDIE_SERVICES_CLAWCTL_TABLE_H_
