#include "ingest/writer.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "base/util.h"

namespace arbor::ingest {
namespace {

namespace bj = boost::json;

class WriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("arbor-writer-" + NewUuid());
    std::filesystem::create_directories(dir_);
    catalog_ = std::move(catalog::OpenSqliteCatalog(dir_ + "/catalog.db").value());
    org_ = catalog_->CreateOrg("o")->id;
    catalog::CatalogObject e{.id = NewUuid(),
                             .org_id = org_,
                             .kind = catalog::ObjectKind::kExperiment,
                             .project_id = "p",
                             .name = "e",
                             .created = "now"};
    exp_ = catalog_->CreateObject(e)->id;
    Open();
  }

  void Open() {
    wal_.reset();
    store_ = std::make_unique<storage::RowStore>();
    writer_ = std::make_unique<Writer>(*catalog_, *store_);
    wal_ = std::move(storage::Wal::Open({.dir = dir_ + "/wal"}, [&](std::string_view p) {
                       return writer_->Replay(p);
                     }).value());
    writer_->Attach(wal_.get());
  }

  StatusOr<std::uint64_t> Write(std::string rows_json) {
    for (std::size_t pos; (pos = rows_json.find("EXP")) != std::string::npos;) {
      rows_json.replace(pos, 3, exp_);
    }
    auto rows = ParseRows(json::Parse(rows_json)->as_array());
    if (!rows.ok()) return rows.status();
    return writer_->Write(org_, std::move(rows).value());
  }

  std::vector<storage::VisibleRow> Rows(std::uint64_t snapshot = UINT64_MAX) {
    const auto* rows = store_->Find(ObjectKey(org_, {ObjectType::kExperiment, exp_}));
    if (!rows) return {};
    return *rows->ScanAll(std::min(snapshot, writer_->visible_xact()));
  }

  std::string dir_, org_, exp_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<storage::RowStore> store_;
  std::unique_ptr<Writer> writer_;
  std::unique_ptr<storage::Wal> wal_;
};

TEST_F(WriterTest, MergeDeleteAndVersionsSurviveReplay) {
  auto x1 = Write(R"([{"id":"a","experiment_id":"EXP","input":"q","tags":["t1"],
                       "created":"2026-01-01T00:00:00Z"}])");
  ASSERT_TRUE(x1.ok()) << x1.status().ToString();
  auto x2 = Write(R"([{"id":"a","experiment_id":"EXP","_is_merge":true,"output":"r",
                       "tags":["t2"]},{"id":"b","experiment_id":"EXP","input":"z"}])");
  ASSERT_TRUE(x2.ok());
  auto x3 = Write(R"([{"id":"b","experiment_id":"EXP","_object_delete":true}])");
  ASSERT_TRUE(x3.ok());
  EXPECT_LT(*x1, *x2);
  for (int pass = 0; pass < 2; ++pass) {
    auto now = Rows();
    ASSERT_EQ(now.size(), 1u) << "pass " << pass;
    EXPECT_EQ(json::CanonicalString(bj::value(*now[0].row)),
              R"({"_xact_id":")" + XactToString(*x2) +
                  R"(","created":"2026-01-01T00:00:00Z","experiment_id":")" + exp_ +
                  R"(","id":"a","input":"q","output":"r","project_id":"p","tags":["t1","t2"]})");
    EXPECT_EQ(Rows(*x1).size(), 1u);
    EXPECT_EQ(Rows(*x1)[0].row->at("_xact_id").as_string(), XactToString(*x1));
    EXPECT_EQ(Rows(*x2).size(), 2u);
    Open();  // replay the WAL into a fresh store
  }
}

TEST_F(WriterTest, UnknownObjectWritesNothing) {
  auto r = Write(R"([{"id":"a","experiment_id":"EXP","input":1},
                     {"id":"b","experiment_id":"00000000-0000-4000-8000-000000000000"}])");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Rows().size(), 0u);
}

TEST_F(WriterTest, RowsOfOneRequestApplyInOrder) {
  auto r = Write(R"([{"id":"a","experiment_id":"EXP","input":{"x":1}},
                     {"id":"a","experiment_id":"EXP","_is_merge":true,"input":{"y":2}}])");
  ASSERT_TRUE(r.ok());
  auto rows = Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(json::CanonicalString(rows[0].row->at("input")), R"({"x":1,"y":2})");
}

TEST_F(WriterTest, WritesWaitWhileTheMemtableIsOverItsLimit) {
  writer_->LimitMemtable(1, 100);  // any unflushed byte is too many
  ASSERT_TRUE(Write(R"([{"id":"a","experiment_id":"EXP"}])").ok());
  auto refused = Write(R"([{"id":"b","experiment_id":"EXP"}])");
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(Rows().size(), 1u);      // nothing of the refused request was written
  ASSERT_TRUE(wal_->Rotate().ok());  // what a flush does: the memtable is empty again
  EXPECT_TRUE(Write(R"([{"id":"b","experiment_id":"EXP"}])").ok());
}

}  // namespace
}  // namespace arbor::ingest
