// Per-query budgets: a deadline and a cap on the rows a query materializes (its memory). The
// API sets them for the query running on the current thread (queries run on one worker
// thread); scans check them once per batch of rows, which keeps the check off the per-row
// path. With no budget set, checks always pass.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/status.h"

namespace arbor {

struct QueryBudgetOptions {
  std::int64_t timeout_ms = 0;  // 0: no deadline
  std::size_t rows_max = 0;     // 0: no row cap
};

struct QueryBudgetState;

// Installs a budget for the current thread for the lifetime of this object.
class ScopedQueryBudget {
 public:
  explicit ScopedQueryBudget(const QueryBudgetOptions& options);
  ~ScopedQueryBudget();
  ScopedQueryBudget(const ScopedQueryBudget&) = delete;
  ScopedQueryBudget& operator=(const ScopedQueryBudget&) = delete;

 private:
  std::unique_ptr<QueryBudgetState> state_;
  QueryBudgetState* previous_;
};

// Counts `rows` more materialized rows against the current budget and checks the deadline:
// DeadlineExceeded past the deadline, ResourceExhausted past the row cap.
Status ChargeQueryBudget(std::size_t rows);

}  // namespace arbor
