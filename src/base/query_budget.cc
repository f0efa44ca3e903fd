#include "base/query_budget.h"

#include <string>

#include "base/util.h"

namespace arbor {

struct QueryBudgetState {
  QueryBudgetOptions options;
  std::int64_t deadline_us = 0;
  std::size_t rows = 0;
};

namespace {
thread_local QueryBudgetState* t_budget = nullptr;
}  // namespace

ScopedQueryBudget::ScopedQueryBudget(const QueryBudgetOptions& options)
    : state_(std::make_unique<QueryBudgetState>(QueryBudgetState{.options = options})),
      previous_(t_budget) {
  if (options.timeout_ms > 0) state_->deadline_us = NowMicros() + options.timeout_ms * 1000;
  t_budget = state_.get();
}

ScopedQueryBudget::~ScopedQueryBudget() { t_budget = previous_; }

Status ChargeQueryBudget(std::size_t rows) {
  QueryBudgetState* b = t_budget;
  if (b == nullptr) return Status::Ok();
  b->rows += rows;
  if (b->options.rows_max > 0 && b->rows > b->options.rows_max) {
    return ResourceExhausted("query exceeded its memory budget of " +
                             std::to_string(b->options.rows_max) +
                             " rows; narrow the filter or lower the limit");
  }
  if (b->deadline_us > 0 && NowMicros() > b->deadline_us) {
    return DeadlineExceeded("query exceeded its time limit of " +
                            std::to_string(b->options.timeout_ms) +
                            " ms; narrow the filter or lower the limit");
  }
  return Status::Ok();
}

}  // namespace arbor
