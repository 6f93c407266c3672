// The encodings of a JSON report's columns (docs/json-schema.md, "Columns"): a column is an
// array with one entry per row, or, where that is smaller, an object that a reader expands back
// to exactly that array: a sparse column (one value on most rows), runs of equal values,
// differences of consecutive integers, or, for a column of earlier row numbers such as a
// stack's caller, each row's distance back. The writer picks the smallest, so a column of small
// figures costs what its information is, not two bytes a row; readers expand it back.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace memscope::analyzer {

// The shortest encoding of `values` (one per row), as JSON text. The differences a `deltas` or
// `back` encoding holds are a column themselves, in their own shortest encoding (`differences`
// false: not differenced again).
std::string encode_column(const std::vector<nlohmann::json>& values, bool differences = true);

// A column as the array of its rows: an array as it is, an encoding expanded; null for anything
// else or an encoding that does not decode (a damaged document is read as far as it goes).
nlohmann::json expand_column(const nlohmann::json& column);

// `table` with each of its columns expanded (members that are not columns kept as they are).
nlohmann::json expand_columns(const nlohmann::json& table);

// The sites table with its columns expanded and its shared rows joined: each column of
// `distinct` becomes a column of the table, entry i being its entry `row[i]` (version 3; a
// table without `distinct`, version 2's, is only expanded).
nlohmann::json expand_sites(const nlohmann::json& table);

}  // namespace memscope::analyzer
