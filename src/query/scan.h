// Building blocks shared by the query shapes: cursors, row selection (index lookup or scan),
// comment attachment and presentation.
#pragma once

#include <boost/json.hpp>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "query/btql.h"
#include "query/paths.h"
#include "storage/row_store.h"

namespace arbor::query {

// Cursor text: "<snapshot>.<object index>.<position>"; position is a row sequence number,
// or an offset into the ordered result when the query sorts or groups by trace.
struct Cursor {
  std::uint64_t snapshot = 0;
  std::size_t object_index = 0;
  std::uint64_t position = 0;
};
std::string EncodeCursor(const Cursor& c);
StatusOr<Cursor> DecodeCursor(std::string_view text);

// Comment rows attach to the row named by their origin.id and are not listed themselves.
bool IsComment(const boost::json::object& row);
using CommentIndex = std::map<std::string, boost::json::array>;
StatusOr<CommentIndex> IndexComments(const storage::ObjectRows& rows, std::uint64_t snapshot);

// A stored row as the API returns it: plus is_root and comments, then the query's projection.
boost::json::object Present(const boost::json::object& row, const Query& q,
                            const CommentIndex& comments);

// True when `e` reads no heavy field (storage::IsHeavyField: input, output, expected), so
// it evaluates on a row's light form exactly as on its body.
bool ReadsOnlyLight(const Expr& e);
bool ReadsOnlyLight(const std::vector<SortItem>& sort);
bool ReadsOnlyLight(const std::vector<SelectItem>& items);

// How Select reads flushed rows.
enum class RowReads {
  // Whole rows come back; the filter is evaluated on light rows where it can be (a filter
  // reading heavy fields first on its light conjuncts, then on the bodies those pass).
  kBodies,
  // As kBodies, but the rows may come back light (VisibleRow::light): for callers that read
  // only light fields and load the bodies of the rows they show (ObjectRows::FullBody).
  kLightOk,
  // Bodies only, light rows never read (the path before segment format 2; tests compare).
  kBodiesOnly,
};

// Rows of one object matching the query's filter, in first-write order after `after_seq`.
// `returned`: what the caller reads from the rows it gets back. Given (and reads not
// kBodiesOnly), flushed rows are read as projections onto the fields the light filter and
// the caller read (storage::ScanFilter::columns) when all are known paths, and blocks that
// the filter's column ranges rule out are skipped; rows may then come back as projections.
StatusOr<std::vector<storage::VisibleRow>> Select(const storage::ObjectRows& rows, const Query& q,
                                                  std::uint64_t snapshot, std::uint64_t after_seq,
                                                  std::size_t limit,
                                                  RowReads reads = RowReads::kBodies,
                                                  const ReadPaths* returned = nullptr);

// The query's sort expressions evaluated once per row, so sorting n rows costs n evaluations
// rather than n log n.
using SortKey = std::vector<boost::json::value>;
SortKey SortKeyOf(const Query& q, const boost::json::object& row);
// Negative, zero or positive as `a` sorts before, with or after `b` (descending items
// reversed). Total: timestamps order as times, before any other string.
int CompareSortKeys(const Query& q, const SortKey& a, const SortKey& b);
// True when a sort expression reads what Present() adds (is_root, comments), so keys must be
// taken from the presented row.
bool SortNeedsPresented(const Query& q);

bool SortLess(const Query& q, const boost::json::object& a, const boost::json::object& b);

}  // namespace arbor::query
