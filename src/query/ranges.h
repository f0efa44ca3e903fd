// Column ranges from a filter: conditions every matching row meets, so a scan can skip
// blocks whose column statistics rule one out (storage::ColumnRange, RowLoader::BlockMayMatch).
#pragma once

#include <optional>
#include <vector>

#include "query/expr.h"
#include "storage/row_store.h"

namespace arbor::query {

// Ranges met by every row `filter` Matches, from its top-level AND conjuncts (nested ANDs
// included): a comparison of a stored field with a constant (either operand order), IN a
// list, IS NOT NULL, LIKE, MATCH and includes. None for what they cannot pin down.
std::vector<storage::ColumnRange> RangesOf(const std::optional<Expr>& filter);

}  // namespace arbor::query
