// For tests: a complete read/write stack (SQLite catalog, WAL, row store, writer, engine) in a
// fresh temporary directory, with one org and one experiment.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "base/util.h"
#include "catalog/catalog.h"
#include "ingest/writer.h"
#include "query/engine.h"
#include "storage/row_store.h"
#include "storage/wal.h"

namespace arbor::query {

struct TestEnv {
  TestEnv() {
    dir = std::filesystem::temp_directory_path() / ("arbor-test-" + NewUuid());
    std::filesystem::create_directories(dir);
    catalog = std::move(catalog::OpenSqliteCatalog(dir + "/catalog.db").value());
    org = catalog->CreateOrg("o")->id;
    exp = NewExperiment("e");
    writer = std::make_unique<ingest::Writer>(*catalog, store);
    wal = std::move(storage::Wal::Open({.dir = dir + "/wal"}, [](std::string_view) {
                      return Status::Ok();
                    }).value());
    writer->Attach(wal.get());
    engine = std::make_unique<Engine>(*catalog, store, *writer);
  }

  std::string NewExperiment(const std::string& name) {
    catalog::CatalogObject e{.id = NewUuid(),
                             .org_id = org,
                             .kind = catalog::ObjectKind::kExperiment,
                             .project_id = "p",
                             .name = name,
                             .created = "now"};
    return catalog->CreateObject(e)->id;
  }

  std::string dir, org, exp;
  std::unique_ptr<catalog::Catalog> catalog;
  storage::RowStore store;
  std::unique_ptr<ingest::Writer> writer;
  std::unique_ptr<storage::Wal> wal;
  std::unique_ptr<Engine> engine;
};

}  // namespace arbor::query
