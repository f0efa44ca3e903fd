// Langfuse's legacy batch ingestion API (POST /api/public/ingestion) mapped to logs3 rows of one
// project: traces and observations (span, generation, event, agent, tool, chain, retriever,
// evaluator, embedding, guardrail; create and update) become span rows, scores become merges
// onto the row they score. Pure: JSON in, rows and per-event results out; routing and the
// write belong to the caller (api/routes_langfuse.cc). Mapping in docs/ingest.md.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "base/limits.h"
#include "base/status.h"

namespace arbor::ingest::langfuse {

// Events in one batch: each may become two rows (an observation and its trace's root).
inline constexpr std::size_t events_max = limits::logs3_rows_max / 2;

// One entry of the 207 answer: `status` 201 for an accepted event, 400 for a rejected one.
struct EventResult {
  std::string id;
  int status = 201;
  std::string message;
};

struct Batch {
  // Rows without routing fields, each to be written as a merge (`_is_merge`).
  std::vector<boost::json::object> rows;
  std::vector<EventResult> results;  // one per event, in order
};

// Errors only for a body that is not {"batch": [...]} or has too many events; a bad event is
// a 400 result of its own.
StatusOr<Batch> MapBatch(const boost::json::value& body);

}  // namespace arbor::ingest::langfuse
