#include "query/btql_text.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "json/json.h"
#include "query/expr.h"
#include "query/functions.h"

namespace arbor::query {
namespace {

namespace bj = boost::json;

// Object ids in one `from` (ParseQueryAst enforces the same bound).
inline constexpr std::size_t source_ids_max = 100;
// How much of a token an error message quotes.
inline constexpr std::size_t error_token_chars_max = 40;

// ---------------------------------------------------------------------------------------------
// Tokens

enum class TokenKind {
  kWord,         // bare identifier or keyword, as written
  kQuotedIdent,  // "..." or `...`, unescaped
  kString,       // '...', unescaped
  kNumber,       // as written
  kPunct,        // operator or punctuation symbol
  kEnd,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  int line = 1;
  int column = 1;
  bool starts_line = false;  // first token on its line: where a pipe clause may begin
};

Status ErrorAt(int line, int column, const std::string& message) {
  return InvalidArgument("line " + std::to_string(line) + ", column " + std::to_string(column) +
                         ": " + message);
}

Status ErrorAt(const Token& t, const std::string& message) {
  return ErrorAt(t.line, t.column, message);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string Clip(std::string_view s) {
  if (s.size() <= error_token_chars_max) return std::string(s);
  return std::string(s.substr(0, error_token_chars_max)) + "...";
}

// How an error message names a token.
std::string Describe(const Token& t) {
  switch (t.kind) {
    case TokenKind::kEnd:
      return "the end of the query";
    case TokenKind::kString:
      return "the string '" + Clip(t.text) + "'";
    case TokenKind::kNumber:
      return "the number " + Clip(t.text);
    default:
      return "'" + Clip(t.text) + "'";
  }
}

bool IsWordStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)); }

// Longest match first.
constexpr std::array<std::string_view, 6> kTwoCharPuncts = {"!=", "<>", "<=", ">=", "=>", "=="};
constexpr std::string_view kOneCharPuncts = "(),.[]|:*=<>+-/%;?";

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  StatusOr<std::vector<Token>> Run() {
    std::vector<Token> tokens;
    while (true) {
      SkipSpaceAndComments();
      if (tokens.size() >= btql_text_tokens_max) {
        return ErrorAt(
            line_, column_,
            "the query has more than " + std::to_string(btql_text_tokens_max) + " tokens");
      }
      ASSIGN_OR_RETURN(Token t, Next());
      bool end = t.kind == TokenKind::kEnd;
      tokens.push_back(std::move(t));
      if (end) return tokens;
    }
  }

 private:
  char Peek(std::size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  bool AtEnd() const { return pos_ >= text_.size(); }

  void Advance() {
    if (text_[pos_] == '\n') {
      ++line_;
      column_ = 1;
      line_start_ = true;
    } else {
      ++column_;
    }
    ++pos_;
  }

  void SkipSpaceAndComments() {
    while (!AtEnd()) {
      if (std::isspace(static_cast<unsigned char>(Peek()))) {
        Advance();
      } else if (Peek() == '-' && Peek(1) == '-') {  // SQL line comment
        while (!AtEnd() && Peek() != '\n') Advance();
      } else {
        return;
      }
    }
  }

  StatusOr<Token> Next() {
    Token t{.line = line_, .column = column_, .starts_line = line_start_};
    line_start_ = false;
    if (AtEnd()) return t;
    char c = Peek();
    if (c == '\'' || c == '"' || c == '`') {
      RETURN_IF_ERROR(LexQuoted(t));
    } else if (IsDigit(c)) {
      RETURN_IF_ERROR(LexNumber(t));
    } else if (IsWordStart(c)) {
      t.kind = TokenKind::kWord;
      while (!AtEnd() && IsWordChar(Peek())) Take(t.text);
    } else {
      RETURN_IF_ERROR(LexPunct(t));
    }
    return t;
  }

  void Take(std::string& out) {
    out.push_back(Peek());
    Advance();
  }

  // A doubled quote inside stands for one quote character (SQL style).
  Status LexQuoted(Token& t) {
    char quote = Peek();
    t.kind = quote == '\'' ? TokenKind::kString : TokenKind::kQuotedIdent;
    Advance();
    while (true) {
      if (AtEnd()) {
        const char* what = quote == '\'' ? "string" : "quoted name";
        return ErrorAt(t, std::string("unterminated ") + what + ": the " + quote +
                              " opened here is never closed");
      }
      if (Peek() == quote) {
        Advance();
        if (Peek() != quote) return Status::Ok();
      }
      Take(t.text);
    }
  }

  Status LexNumber(Token& t) {
    t.kind = TokenKind::kNumber;
    while (IsDigit(Peek())) Take(t.text);
    if (Peek() == '.' && IsDigit(Peek(1))) {
      Take(t.text);
      while (IsDigit(Peek())) Take(t.text);
    }
    if ((Peek() == 'e' || Peek() == 'E') &&
        (IsDigit(Peek(1)) || ((Peek(1) == '+' || Peek(1) == '-') && IsDigit(Peek(2))))) {
      Take(t.text);
      Take(t.text);
      while (IsDigit(Peek())) Take(t.text);
    }
    if (IsWordChar(Peek())) {
      while (!AtEnd() && IsWordChar(Peek())) Take(t.text);
      return ErrorAt(t, "malformed number '" + Clip(t.text) +
                            "' (names may not start with a digit; quote them as \"...\")");
    }
    return Status::Ok();
  }

  Status LexPunct(Token& t) {
    t.kind = TokenKind::kPunct;
    std::string_view rest = text_.substr(pos_);
    for (std::string_view p : kTwoCharPuncts) {
      if (rest.substr(0, 2) == p) {
        Take(t.text);
        Take(t.text);
        return Status::Ok();
      }
    }
    char c = Peek();
    if (kOneCharPuncts.find(c) != std::string_view::npos) {
      Take(t.text);
      return Status::Ok();
    }
    if (std::isprint(static_cast<unsigned char>(c))) {
      return ErrorAt(t, std::string("unexpected character '") + c + "'");
    }
    static constexpr char kHex[] = "0123456789abcdef";
    auto byte = static_cast<unsigned char>(c);
    return ErrorAt(t, std::string("unexpected byte 0x") + kHex[byte >> 4] + kHex[byte & 15] +
                          " (quote names that are not plain ASCII as \"...\")");
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
  bool line_start_ = true;
};

// ---------------------------------------------------------------------------------------------
// AST nodes, shaped exactly as the SDKs send them (protocol §4.1).

bj::object Node(std::string_view op) {
  bj::object o;
  o["op"] = op;
  return o;
}

bj::object Literal(bj::value v) {
  bj::object o = Node("literal");
  o["value"] = std::move(v);
  return o;
}

bj::object Binary(std::string_view op, bj::object left, bj::object right) {
  bj::object o = Node(op);
  o["left"] = std::move(left);
  o["right"] = std::move(right);
  return o;
}

bj::object Unary(std::string_view op, bj::object expr) {
  bj::object o = Node(op);
  o["expr"] = std::move(expr);
  return o;
}

// Integers stay integers (limits, ids, indices); anything with '.' or an exponent is a double.
StatusOr<bj::value> ParseNumber(const Token& at, const std::string& text) {
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (text.find_first_of(".eE") == std::string::npos) {
    std::int64_t i = 0;
    auto [end, ec] = std::from_chars(first, last, i);
    if (ec == std::errc() && end == last) return bj::value(i);
  }
  double d = 0;
  auto [end, ec] = std::from_chars(first, last, d);
  if (ec != std::errc() || end != last) {
    return ErrorAt(at, "the number " + Clip(text) + " is out of range");
  }
  return bj::value(d);
}

// Words that cannot start an expression: operators and clause keywords. Quoting makes them names.
bool IsReserved(const std::string& lower) {
  static constexpr std::array<std::string_view, 22> kReserved = {
      "and",      "or",       "not",   "is",    "in",     "like",   "ilike", "match",
      "includes", "contains", "as",    "asc",   "desc",   "select", "from",  "where",
      "order",    "by",       "limit", "group", "having", "between"};
  return std::find(kReserved.begin(), kReserved.end(), lower) != kReserved.end();
}

bool IsShapeWord(const std::string& lower) {
  return lower == "spans" || lower == "traces" || lower == "summary";
}

constexpr std::string_view kKnownFunctions =
    "lower, upper, concat, coalesce, nullif, least, greatest, len, length, round, abs, "
    "date_trunc, to_string, to_number, now, json_extract, and the aggregates count, "
    "count_distinct, sum, avg, min, "
    "max, percentile; any_span(...) in filters";

// One item of a select, dimensions or measures list, with where it came from.
struct ListItem {
  bool star = false;
  bj::object expr;
  std::string alias;
  const Token* start = nullptr;
  const Token* aggregate = nullptr;  // the first aggregate call inside expr, if any
};

// Whether `expr` is itself an aggregate call (what ParseQueryAst accepts as a measure).
bool IsAggregateCall(const bj::object& expr) {
  if (expr.at("op").as_string() != "function") return false;
  const bj::array& name = expr.at("name").at("name").as_array();
  return IsAggregateFunction(std::string(name.at(0).as_string()));
}

bj::object ItemObject(const ListItem& item) {
  bj::object o;
  o["expr"] = item.expr;
  o["alias"] = item.alias;
  return o;
}

// ---------------------------------------------------------------------------------------------
// Parser: recursive descent over the tokens. Precedence, loosest first:
// OR < AND < NOT < comparison (= != <> < <= > >= IS LIKE ILIKE IN MATCH INCLUDES CONTAINS)
// < + - < * / % < unary minus < primary (literal, path, function call, parentheses).

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  StatusOr<bj::object> Run() {
    const Token& first = Peek();
    if (first.kind == TokenKind::kEnd) return ErrorAt(first, "the query is empty");
    if (IsWord(first, "select") && !IsPunct(Peek(1), ":")) return ParseSql();
    if (first.kind == TokenKind::kWord && IsPunct(Peek(1), ":")) return ParsePipe();
    return ErrorAt(first,
                   "expected a clause such as 'select:' or 'from:', or a SQL query "
                   "starting with SELECT; found " +
                       Describe(first));
  }

 private:
  // --- token access ---

  const Token& Peek(std::size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];  // the last token is kEnd
  }
  const Token& Take() {
    const Token& t = Peek();
    if (t.kind != TokenKind::kEnd) ++pos_;
    return t;
  }
  static bool IsWord(const Token& t, std::string_view lower) {
    return t.kind == TokenKind::kWord && Lower(t.text) == lower;
  }
  static bool IsPunct(const Token& t, std::string_view p) {
    return t.kind == TokenKind::kPunct && t.text == p;
  }
  bool AcceptWord(std::string_view lower) {
    if (!IsWord(Peek(), lower)) return false;
    Take();
    return true;
  }
  bool AcceptPunct(std::string_view p) {
    if (!IsPunct(Peek(), p)) return false;
    Take();
    return true;
  }
  Status ExpectPunct(std::string_view p, const std::string& context) {
    if (AcceptPunct(p)) return Status::Ok();
    return ErrorAt(Peek(),
                   "expected '" + std::string(p) + "' " + context + ", found " + Describe(Peek()));
  }
  // The previous token as an error message names it; "filter:" rather than ":".
  std::string PreviousText() const {
    if (pos_ == 0) return "the start";
    const Token& prev = tokens_[pos_ - 1];
    if (IsPunct(prev, ":") && pos_ >= 2) return "'" + Clip(tokens_[pos_ - 2].text) + ":'";
    return "'" + Clip(prev.text) + "'";
  }

  // --- pipe syntax ---

  StatusOr<bj::object> ParsePipe() {
    bj::object ast;
    bool first = true;
    std::string previous_clause;
    while (Peek().kind != TokenKind::kEnd) {
      if (!first && !AcceptPunct("|") && !Peek().starts_line) {
        return ErrorAt(Peek(), "unexpected " + Describe(Peek()) + " after the '" + previous_clause +
                                   ":' clause; put each clause on its own line or separate "
                                   "clauses with '|'");
      }
      first = false;
      ASSIGN_OR_RETURN(previous_clause, ParseClause(ast));
    }
    return FinishPipe(ast);
  }

  // The `from:` clause is mandatory; `select:` defaults to star as the SDKs send it.
  StatusOr<bj::object> FinishPipe(bj::object& ast) {
    if (!ast.contains("from")) {
      return ErrorAt(tokens_.front(),
                     "the query has no 'from:' clause (for example "
                     "\"from: experiment('<id>')\")");
    }
    bool aggregation = ast.contains("dimensions") || ast.contains("measures");
    if (!aggregation && !ast.contains("select")) ast["select"] = bj::array{Node("star")};
    if (having_clause_ != nullptr && !aggregation) {
      return ErrorAt(*having_clause_,
                     "'having:' filters aggregated rows; add 'dimensions:' or 'measures:'");
    }
    if (aggregation) RETURN_IF_ERROR(MoveMeasureFilters(ast));
    RETURN_IF_ERROR(FinishSort(ast));
    return std::move(ast);
  }

  // Parses `name: value` into ast[name]; returns the clause name.
  StatusOr<std::string> ParseClause(bj::object& ast) {
    const Token& name_tok = Take();
    if (name_tok.kind != TokenKind::kWord || !IsPunct(Peek(), ":")) {
      return ErrorAt(name_tok, "expected a clause such as 'filter:', found " + Describe(name_tok));
    }
    Take();  // ':'
    std::string name = Lower(name_tok.text);
    static constexpr std::array<std::string_view, 3> kUnsupported = {"pivot", "unpivot", "sample"};
    if (std::find(kUnsupported.begin(), kUnsupported.end(), name) != kUnsupported.end()) {
      return ErrorAt(name_tok, "the '" + name + ":' clause is not supported yet");
    }
    if (ast.contains(name)) return ErrorAt(name_tok, "the '" + name + ":' clause appears twice");
    if (name == "select" || name == "dimensions" || name == "measures") {
      const Token*& other = name == "select" ? aggregation_clause_ : select_clause_;
      if (other != nullptr) {
        return ErrorAt(name_tok, "use either 'select:' or 'dimensions:'/'measures:', not both ('" +
                                     Lower(other->text) + ":' is at line " +
                                     std::to_string(other->line) + ", column " +
                                     std::to_string(other->column) + ")");
      }
      (name == "select" ? select_clause_ : aggregation_clause_) = &name_tok;
    }
    if (name == "filter") filter_clause_ = &name_tok;
    if (name == "having") having_clause_ = &name_tok;
    ASSIGN_OR_RETURN(bj::value value, ParseClauseValue(name_tok, name));
    ast[name] = std::move(value);
    return name;
  }

  StatusOr<bj::value> ParseClauseValue(const Token& name_tok, const std::string& name) {
    if (name == "select") return Wrap(ParsePipeSelect());
    if (name == "dimensions") return Wrap(ParsePipeAggregationList(false));
    if (name == "measures") return Wrap(ParsePipeAggregationList(true));
    if (name == "from") return Wrap(ParseSource());
    if (name == "filter") return Wrap(ParseFilter());
    if (name == "having") return Wrap(ParseHavingExpr());
    if (name == "sort") return Wrap(ParseSortList());
    if (name == "limit") return ParseCount("limit:", "limit");
    if (name == "preview_length") return ParseCount("preview_length:", "preview length");
    if (name == "cursor") return ParseCursor();
    return ErrorAt(name_tok,
                   "unknown clause '" + Clip(name_tok.text) +
                       ":'; expected select, dimensions, measures, from, filter, having, sort, "
                       "limit, cursor or preview_length");
  }

  template <typename T>
  static StatusOr<bj::value> Wrap(StatusOr<T> v) {
    if (!v.ok()) return v.status();
    return bj::value(std::move(v).value());
  }

  // `select:` takes no aggregates; those belong in `measures:`.
  StatusOr<bj::array> ParsePipeSelect() {
    ASSIGN_OR_RETURN(std::vector<ListItem> items, ParseItemList());
    bj::array out;
    for (const ListItem& item : items) {
      if (item.aggregate != nullptr) {
        return ErrorAt(*item.aggregate, "the aggregate '" + Lower(item.aggregate->text) +
                                            "()' does not belong in 'select:'; use 'dimensions:' "
                                            "and 'measures:' to aggregate");
      }
      out.push_back(item.star ? bj::value(Node("star")) : bj::value(ItemObject(item)));
    }
    return out;
  }

  // `dimensions: expr [AS alias], ...` or `measures: agg(expr) [AS alias], ...`.
  StatusOr<bj::array> ParsePipeAggregationList(bool measures) {
    const char* clause = measures ? "'measures:'" : "'dimensions:'";
    ASSIGN_OR_RETURN(std::vector<ListItem> items, ParseItemList());
    bj::array out;
    for (const ListItem& item : items) {
      if (item.star) return ErrorAt(*item.start, std::string("'*' is not allowed in ") + clause);
      if (measures) {
        RETURN_IF_ERROR(CheckMeasure(item));
      } else if (item.aggregate != nullptr) {
        return ErrorAt(*item.aggregate, "the aggregate '" + Lower(item.aggregate->text) +
                                            "()' does not belong in 'dimensions:'; put it in "
                                            "'measures:'");
      }
      RETURN_IF_ERROR(AddOutput(item));
      out.push_back(ItemObject(item));
    }
    return out;
  }

  // A measure is one aggregate call; arithmetic over aggregates is not evaluated.
  static Status CheckMeasure(const ListItem& item) {
    if (IsAggregateCall(item.expr)) return Status::Ok();
    if (item.aggregate != nullptr) {
      return ErrorAt(*item.start,
                     "a measure must be a single aggregate call such as sum(x); expressions "
                     "around aggregates are not supported");
    }
    return ErrorAt(*item.start,
                   "a measure must be an aggregate call such as count(*), sum(x) or avg(x), "
                   "found " +
                       Describe(*item.start));
  }

  // Output columns of an aggregation must have distinct names.
  Status AddOutput(const ListItem& item) {
    for (const ListItem& prev : outputs_) {
      if (prev.alias == item.alias) {
        return ErrorAt(*item.start, "the column name '" + Clip(item.alias) +
                                        "' is used twice; rename one with AS");
      }
    }
    outputs_.push_back(item);
    return Status::Ok();
  }

  // In an aggregation, sort keys name output columns: an alias is kept, an expression equal to
  // a dimension or measure is replaced by that column's alias. Other aggregates are errors.
  Status FinishSort(bj::object& ast) {
    bj::value* sort = ast.if_contains("sort");
    if (sort == nullptr) return Status::Ok();
    bj::array& items = sort->as_array();
    for (std::size_t i = 0; i < items.size(); ++i) {
      bj::object& item = items[i].as_object();
      const bj::object& expr = item.at("expr").as_object();
      const bool is_alias = expr.at("op").as_string() == "ident" &&
                            expr.at("name").as_array().size() == 1 &&
                            std::any_of(outputs_.begin(), outputs_.end(), [&](const ListItem& o) {
                              return expr.at("name").as_array()[0] == bj::value(o.alias);
                            });
      if (is_alias) continue;
      const std::string key = json::CanonicalString(expr);
      auto match = std::find_if(outputs_.begin(), outputs_.end(), [&](const ListItem& o) {
        return json::CanonicalString(o.expr) == key;
      });
      if (match != outputs_.end()) {
        item["expr"] = bj::object{{"op", "ident"}, {"name", bj::array{bj::value(match->alias)}}};
      } else if (sort_aggregates_[i] != nullptr) {
        return ErrorAt(*sort_aggregates_[i], "sorting by the aggregate '" +
                                                 Lower(sort_aggregates_[i]->text) +
                                                 "()' needs the same aggregate among the measures");
      }
    }
    return Status::Ok();
  }

  StatusOr<bj::object> ParseFilter() {
    first_aggregate_ = nullptr;
    any_span_allowed_ = true;
    StatusOr<bj::object> parsed = ParseExpression();
    any_span_allowed_ = false;
    ASSIGN_OR_RETURN(bj::object e, std::move(parsed));
    if (first_aggregate_ != nullptr) {
      return ErrorAt(*first_aggregate_, "the aggregate '" + Lower(first_aggregate_->text) +
                                            "()' cannot be used in a filter");
    }
    return e;
  }

  // HAVING / having: an expression over the output columns; aggregates are allowed (those that
  // are not measures are computed on the side by ParseQueryAst).
  StatusOr<bj::object> ParseHavingExpr() {
    first_aggregate_ = nullptr;
    return ParseExpression();
  }

  // Names of the single-part identifiers in an AST expression.
  static void CollectNames(const bj::value& v, std::vector<std::string>& names, bool& other) {
    if (!v.is_object()) {
      if (v.is_array()) {
        for (const auto& x : v.get_array()) CollectNames(x, names, other);
      }
      return;
    }
    const bj::object& o = v.get_object();
    const bj::value* op = o.if_contains("op");
    if (op != nullptr && op->is_string() && op->get_string() == "ident") {
      const bj::array& name = o.at("name").as_array();
      if (name.size() == 1 && name[0].is_string()) {
        names.emplace_back(name[0].get_string());
      } else {
        other = true;
      }
      return;
    }
    if (op != nullptr && op->is_string() && op->get_string() == "function") {
      // any_span() looks at spans, so a term using it stays a span filter.
      if (o.at("name").at("name").as_array().at(0) == bj::value("any_span")) other = true;
      CollectNames(o.at("args"), names, other);
      return;
    }
    for (const auto& kv : o) CollectNames(kv.value(), names, other);
  }

  // In an aggregation, a `filter:` condition (a top-level AND term) that names only output
  // columns filters the groups, as SQL HAVING does, and moves to "having" (for dimensions alone
  // that gives the same groups as filtering spans, and it lets `model` mean the dimension
  // `metadata.model AS model`). A term naming a measure may not also name a span field, which
  // has no single value per group.
  Status MoveMeasureFilters(bj::object& ast) {
    bj::value* filter = ast.if_contains("filter");
    if (filter == nullptr) return Status::Ok();
    std::vector<std::string> measures, outputs;
    for (const ListItem& o : outputs_) {
      outputs.push_back(o.alias);
      if (IsAggregateCall(o.expr)) measures.push_back(o.alias);
    }
    auto in = [](const std::vector<std::string>& list, const std::string& n) {
      return std::find(list.begin(), list.end(), n) != list.end();
    };
    bj::object& f = filter->as_object();
    bj::array terms;
    if (f.at("op").as_string() == "and") {
      terms = f.at("children").as_array();
    } else {
      terms.push_back(f);
    }
    bj::array keep, moved;
    for (auto& term : terms) {
      std::vector<std::string> names;
      bool other = false;
      CollectNames(term, names, other);
      const bool names_measure = std::any_of(names.begin(), names.end(),
                                             [&](const std::string& n) { return in(measures, n); });
      for (const std::string& n : names) {
        if (!in(outputs, n)) other = true;
      }
      if (!names_measure && (other || names.empty())) {
        keep.push_back(std::move(term));
        continue;
      }
      if (other) {
        return ErrorAt(*filter_clause_,
                       "a filter condition that uses a measure may use only dimensions and "
                       "measures; filter spans and groups in separate AND terms, or use "
                       "'having:'");
      }
      moved.push_back(std::move(term));
    }
    if (moved.empty()) return Status::Ok();
    auto conjunction = [](bj::array items) -> bj::value {
      if (items.size() == 1) return std::move(items[0]);
      bj::object o = Node("and");
      o["children"] = std::move(items);
      return o;
    };
    if (bj::value* having = ast.if_contains("having")) moved.push_back(std::move(*having));
    ast["having"] = conjunction(std::move(moved));
    if (keep.empty()) {
      ast.erase("filter");
    } else {
      ast["filter"] = conjunction(std::move(keep));
    }
    return Status::Ok();
  }

  StatusOr<bj::value> ParseCursor() {
    const Token& t = Take();
    if (t.kind == TokenKind::kString) return bj::value(t.text);
    if (IsWord(t, "null")) return bj::value(nullptr);
    return ErrorAt(t, "expected a quoted cursor string after 'cursor:', found " + Describe(t));
  }

  // --- SQL syntax ---

  StatusOr<bj::object> ParseSql() {
    bj::object ast;
    Take();  // SELECT
    ASSIGN_OR_RETURN(std::vector<ListItem> select, ParseItemList());
    if (!AcceptWord("from")) {
      return ErrorAt(Peek(), "expected FROM after the select list, found " + Describe(Peek()));
    }
    ASSIGN_OR_RETURN(ast["from"], Wrap(ParseSource()));
    if (AcceptWord("where")) {
      ASSIGN_OR_RETURN(ast["filter"], Wrap(ParseFilter()));
    }
    std::vector<ListItem> group_by;
    const Token* group_tok = nullptr;
    if (IsWord(Peek(), "group")) {
      group_tok = &Take();
      if (!AcceptWord("by")) return ErrorAt(Peek(), "expected BY after GROUP");
      ASSIGN_OR_RETURN(group_by, ParseGroupBy());
    }
    const Token* having_tok = nullptr;
    if (IsWord(Peek(), "having")) {
      having_tok = &Take();
      ASSIGN_OR_RETURN(ast["having"], Wrap(ParseHavingExpr()));
    }
    const bool aggregation = group_tok != nullptr ||
                             std::any_of(select.begin(), select.end(),
                                         [](const ListItem& i) { return i.aggregate != nullptr; });
    if (having_tok != nullptr && !aggregation) {
      return ErrorAt(*having_tok,
                     "HAVING filters groups; add GROUP BY or select an aggregate such as "
                     "count(*)");
    }
    if (aggregation) {
      RETURN_IF_ERROR(SplitSqlAggregation(select, group_by, ast));
    } else {
      bj::array items;
      for (const ListItem& item : select) {
        items.push_back(item.star ? bj::value(Node("star")) : bj::value(ItemObject(item)));
      }
      ast["select"] = std::move(items);
    }
    if (AcceptWord("order")) {
      if (!AcceptWord("by")) return ErrorAt(Peek(), "expected BY after ORDER");
      ASSIGN_OR_RETURN(ast["sort"], Wrap(ParseSortList()));
    }
    if (AcceptWord("limit")) {
      ASSIGN_OR_RETURN(ast["limit"], ParseCount("LIMIT", "limit"));
    }
    AcceptPunct(";");
    if (Peek().kind != TokenKind::kEnd) {
      return ErrorAt(Peek(), "unexpected " + Describe(Peek()) + " after the end of the query");
    }
    RETURN_IF_ERROR(FinishSort(ast));
    return ast;
  }

  // GROUP BY expressions (no aliases; an integer n names the n-th selected column).
  StatusOr<std::vector<ListItem>> ParseGroupBy() {
    std::vector<ListItem> out;
    do {
      ListItem item;
      item.start = &Peek();
      first_aggregate_ = nullptr;
      ASSIGN_OR_RETURN(item.expr, ParseExpression());
      if (first_aggregate_ != nullptr) {
        return ErrorAt(*first_aggregate_, "GROUP BY cannot use the aggregate '" +
                                              Lower(first_aggregate_->text) + "()'");
      }
      out.push_back(std::move(item));
    } while (AcceptPunct(","));
    return out;
  }

  // Whether the GROUP BY key `g` names the `index`-th (0-based) select item `s`.
  static bool GroupMatches(const ListItem& g, const ListItem& s, std::size_t index) {
    const bj::object& e = g.expr;
    const std::string op(e.at("op").as_string());
    if (op == "literal" && e.at("value").is_int64()) {
      return e.at("value").get_int64() == static_cast<std::int64_t>(index) + 1;
    }
    if (op == "ident" && e.at("name").as_array().size() == 1 &&
        e.at("name").as_array()[0] == bj::value(s.alias)) {
      return true;
    }
    return json::CanonicalString(e) == json::CanonicalString(s.expr);
  }

  // Selected aggregates become measures; the other columns must be grouped by and become
  // dimensions. Every GROUP BY key must name a selected column.
  Status SplitSqlAggregation(const std::vector<ListItem>& select,
                             const std::vector<ListItem>& group_by, bj::object& ast) {
    bj::array dimensions;
    bj::array measures;
    std::vector<bool> used(group_by.size(), false);
    for (std::size_t i = 0; i < select.size(); ++i) {
      const ListItem& item = select[i];
      if (item.star) {
        return ErrorAt(*item.start,
                       "SELECT * cannot be combined with GROUP BY or aggregate functions; list "
                       "the columns");
      }
      if (item.aggregate != nullptr) {
        RETURN_IF_ERROR(CheckMeasure(item));
        RETURN_IF_ERROR(AddOutput(item));
        measures.push_back(ItemObject(item));
        continue;
      }
      bool grouped = false;
      for (std::size_t j = 0; j < group_by.size(); ++j) {
        if (GroupMatches(group_by[j], item, i)) {
          used[j] = true;
          grouped = true;
        }
      }
      if (!grouped) {
        return ErrorAt(*item.start, "the column '" + Clip(item.alias) +
                                        "' must appear in GROUP BY or be inside an aggregate "
                                        "function such as count(...)");
      }
      RETURN_IF_ERROR(AddOutput(item));
      dimensions.push_back(ItemObject(item));
    }
    for (std::size_t j = 0; j < group_by.size(); ++j) {
      if (!used[j]) {
        return ErrorAt(*group_by[j].start,
                       "this GROUP BY key is not a selected column; add it to the SELECT list");
      }
    }
    if (!dimensions.empty()) ast["dimensions"] = std::move(dimensions);
    if (!measures.empty()) ast["measures"] = std::move(measures);
    return Status::Ok();
  }

  // --- clause bodies shared by both syntaxes ---

  // `*` or `expr [AS alias]`, comma-separated: the select, dimensions and measures lists.
  StatusOr<std::vector<ListItem>> ParseItemList() {
    std::vector<ListItem> items;
    do {
      ListItem item;
      item.start = &Peek();
      if (AcceptPunct("*")) {
        item.star = true;
        items.push_back(std::move(item));
        continue;
      }
      first_aggregate_ = nullptr;
      ASSIGN_OR_RETURN(item.expr, ParseExpression());
      item.aggregate = first_aggregate_;
      ASSIGN_OR_RETURN(item.alias, ParseAlias(*item.start, item.expr));
      items.push_back(std::move(item));
    } while (AcceptPunct(","));
    return items;
  }

  // `AS name`, else the last field name of a plain identifier (as SQL names `t.col` "col"),
  // else a function call's name (`count(*)` is "count").
  StatusOr<std::string> ParseAlias(const Token& start, const bj::object& expr) {
    if (AcceptWord("as")) {
      const Token& t = Take();
      if (t.kind == TokenKind::kWord || t.kind == TokenKind::kQuotedIdent ||
          t.kind == TokenKind::kString) {
        return t.text;
      }
      return ErrorAt(t, "expected a column name after AS, found " + Describe(t));
    }
    if (expr.at("op").as_string() == "ident") {
      const bj::array& name = expr.at("name").get_array();
      if (name.back().is_string()) return std::string(name.back().get_string());
    }
    if (expr.at("op").as_string() == "function") {
      return std::string(expr.at("name").at("name").as_array().at(0).as_string());
    }
    return ErrorAt(start, "name this selected expression with AS (for example \"... AS x\")");
  }

  // `experiment('a', 'b') [spans|traces|summary]` or `project_logs('a', shape => 'traces')`.
  StatusOr<bj::object> ParseSource() {
    const Token& name_tok = Take();
    std::string name = Lower(name_tok.text);
    if (name_tok.kind != TokenKind::kWord ||
        (name != "experiment" && name != "dataset" && name != "project_logs" &&
         name != "playground_logs")) {
      return ErrorAt(name_tok,
                     "expected a source such as experiment('<id>'), dataset('<id>') "
                     "or project_logs('<id>'), found " +
                         Describe(name_tok));
    }
    RETURN_IF_ERROR(ExpectPunct("(", "after '" + name + "'"));
    bj::object from = Node("function");
    from["name"] = bj::object{{"op", "ident"}, {"name", bj::array{bj::value(name)}}};
    ASSIGN_OR_RETURN(from["args"], Wrap(ParseSourceArgs(from)));
    if (Peek().kind == TokenKind::kWord && IsShapeWord(Lower(Peek().text))) {
      RETURN_IF_ERROR(SetShape(Peek(), from, Lower(Peek().text)));
      Take();
    }
    return from;
  }

  // Named arguments may sit anywhere in the list; at least one id is required.
  StatusOr<bj::array> ParseSourceArgs(bj::object& from) {
    bj::array args;
    do {
      const Token& t = Take();
      if (t.kind == TokenKind::kWord && IsPunct(Peek(), "=>")) {
        Take();
        RETURN_IF_ERROR(ParseNamedSourceArg(t, from));
      } else if (t.kind == TokenKind::kString && !t.text.empty()) {
        if (args.size() == source_ids_max) {
          return ErrorAt(t, "a source takes at most " + std::to_string(source_ids_max) + " ids");
        }
        args.push_back(Literal(bj::value(t.text)));
      } else {
        return ErrorAt(t, "expected a quoted object id such as '<id>', found " + Describe(t));
      }
    } while (AcceptPunct(","));
    RETURN_IF_ERROR(ExpectPunct(")", "to close the source arguments"));
    if (args.empty()) return ErrorAt(tokens_[pos_ - 1], "the source needs a quoted object id");
    return args;
  }

  Status ParseNamedSourceArg(const Token& arg, bj::object& from) {
    if (Lower(arg.text) != "shape") {
      return ErrorAt(arg, "unknown source argument '" + Clip(arg.text) +
                              "'; only shape => is "
                              "supported");
    }
    const Token& v = Take();
    if (v.kind != TokenKind::kString || !IsShapeWord(Lower(v.text))) {
      return ErrorAt(v, "shape must be 'spans', 'traces' or 'summary', found " + Describe(v));
    }
    return SetShape(v, from, Lower(v.text));
  }

  static Status SetShape(const Token& at, bj::object& from, const std::string& shape) {
    if (from.contains("shape")) return ErrorAt(at, "the source's shape is given twice");
    from["shape"] = shape;
    return Status::Ok();
  }

  StatusOr<bj::array> ParseSortList() {
    bj::array items;
    do {
      first_aggregate_ = nullptr;
      ASSIGN_OR_RETURN(bj::object expr, ParseExpression());
      sort_aggregates_.push_back(first_aggregate_);
      std::string dir = "asc";
      if (AcceptWord("desc")) {
        dir = "desc";
      } else {
        AcceptWord("asc");
      }
      items.push_back(bj::object{{"expr", std::move(expr)}, {"dir", dir}});
    } while (AcceptPunct(","));
    return items;
  }

  // A non-negative integer after `clause` (LIMIT, limit:, preview_length:).
  StatusOr<bj::value> ParseCount(const std::string& clause, const std::string& what) {
    const Token& t = Take();
    const std::string must = "the " + what + " must be a non-negative integer";
    if (IsPunct(t, "-")) return ErrorAt(t, must);
    if (t.kind != TokenKind::kNumber) {
      return ErrorAt(t,
                     "expected a non-negative integer after " + clause + ", found " + Describe(t));
    }
    ASSIGN_OR_RETURN(bj::value n, ParseNumber(t, t.text));
    if (!n.is_int64()) return ErrorAt(t, must);
    return n;
  }

  // --- expressions ---

  StatusOr<bj::object> ParseExpression() { return ParseTernary(); }

  // `cond ? a : b`, the loosest operator, right-associative: `a ? x : b ? y : z` is one "if"
  // node with two conditions (the SDK AST's flattened form).
  StatusOr<bj::object> ParseTernary() {
    ASSIGN_OR_RETURN(bj::object cond, ParseOr());
    if (!IsPunct(Peek(), "?")) return cond;
    const Token& question = Take();
    RETURN_IF_ERROR(Deeper());
    StatusOr<bj::object> result = [&]() -> StatusOr<bj::object> {
      ASSIGN_OR_RETURN(bj::object then, ParseTernary());
      if (!AcceptPunct(":")) {
        return ErrorAt(Peek(), "expected ':' and the value for false after the '?' at line " +
                                   std::to_string(question.line) + ", column " +
                                   std::to_string(question.column) + ", found " + Describe(Peek()));
      }
      ASSIGN_OR_RETURN(bj::object otherwise, ParseTernary());
      return IfNode(std::move(cond), std::move(then), std::move(otherwise));
    }();
    --depth_;
    return result;
  }

  // {"op":"if","conds":[{cond,then}],"else":...}, merging an "if" in the else branch.
  static bj::object IfNode(bj::object cond, bj::object then, bj::object otherwise) {
    bj::array conds{bj::object{{"cond", std::move(cond)}, {"then", std::move(then)}}};
    if (otherwise.at("op").as_string() == "if") {
      for (auto& c : otherwise.at("conds").as_array()) conds.push_back(std::move(c));
      otherwise = std::move(otherwise.at("else").as_object());
    }
    bj::object o = Node("if");
    o["conds"] = std::move(conds);
    o["else"] = std::move(otherwise);
    return o;
  }

  // SQL `CASE [subject] WHEN x THEN y ... [ELSE z] END`; a subject compares with each WHEN
  // value by =; no ELSE means null.
  StatusOr<bj::object> ParseCase() {
    const Token& case_tok = Take();
    RETURN_IF_ERROR(Deeper());
    ++case_depth_;
    StatusOr<bj::object> result = [&]() -> StatusOr<bj::object> {
      std::optional<bj::object> subject;
      if (!IsWord(Peek(), "when")) {
        ASSIGN_OR_RETURN(subject, ParseExpression());
      }
      bj::array conds;
      while (AcceptWord("when")) {
        ASSIGN_OR_RETURN(bj::object cond, ParseExpression());
        if (subject) cond = Binary("eq", *subject, std::move(cond));
        if (!AcceptWord("then")) {
          return ErrorAt(Peek(),
                         "expected THEN after the WHEN condition, found " + Describe(Peek()));
        }
        ASSIGN_OR_RETURN(bj::object then, ParseExpression());
        conds.push_back(bj::object{{"cond", std::move(cond)}, {"then", std::move(then)}});
      }
      if (conds.empty()) {
        return ErrorAt(Peek(), "expected WHEN after CASE, found " + Describe(Peek()));
      }
      bj::object otherwise = Literal(nullptr);
      if (AcceptWord("else")) {
        ASSIGN_OR_RETURN(otherwise, ParseExpression());
      }
      if (!AcceptWord("end")) {
        return ErrorAt(Peek(), "expected END to close the CASE at line " +
                                   std::to_string(case_tok.line) + ", column " +
                                   std::to_string(case_tok.column) + ", found " + Describe(Peek()));
      }
      bj::object o = Node("if");
      o["conds"] = std::move(conds);
      o["else"] = std::move(otherwise);
      return o;
    }();
    --case_depth_;
    --depth_;
    return result;
  }

  // Whether `case` here opens a CASE expression rather than naming a field.
  bool AtCase() const {
    if (!IsWord(Peek(), "case")) return false;
    const Token& next = Peek(1);
    if (next.kind == TokenKind::kWord) return !IsReserved(Lower(next.text)) || IsWord(next, "not");
    return next.kind == TokenKind::kString || next.kind == TokenKind::kNumber ||
           next.kind == TokenKind::kQuotedIdent || IsPunct(next, "(") || IsPunct(next, "-");
  }

  // Whether `interval` here starts an interval literal rather than naming a field.
  bool AtInterval() const {
    if (!IsWord(Peek(), "interval")) return false;
    const Token& next = Peek(1);
    // `interval - 1 day` is an interval; `interval - 1 > 0` subtracts from a field.
    return next.kind == TokenKind::kNumber || next.kind == TokenKind::kString ||
           (IsPunct(next, "-") && Peek(2).kind == TokenKind::kNumber &&
            Peek(3).kind == TokenKind::kWord && !IsReserved(Lower(Peek(3).text)));
  }

  // `interval 3 day`, `interval -1 hours`, `INTERVAL '7 days'`, `INTERVAL '7' DAY`: the SDK
  // AST {"op":"interval","value":n,"unit":u}; weeks become days.
  StatusOr<bj::object> ParseInterval() {
    Take();  // interval
    std::string amount;
    std::string unit;
    const Token* amount_tok = &Peek();
    const Token* unit_tok = nullptr;
    if (AcceptPunct("-")) amount = "-";
    const Token& value = Take();
    amount += value.text;
    if (value.kind == TokenKind::kString) {  // '7 days' holds both parts; '7' only the amount
      std::size_t space = value.text.find(' ');
      if (space != std::string::npos) {
        amount = value.text.substr(0, space);
        std::size_t unit_start = value.text.find_first_not_of(' ', space);
        unit = unit_start == std::string::npos ? "" : value.text.substr(unit_start);
        unit_tok = &value;
      }
    }
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(amount.data(), amount.data() + amount.size(), n);
    if (ec != std::errc() || end != amount.data() + amount.size()) {
      return ErrorAt(*amount_tok,
                     "an interval needs a whole number of units, as in "
                     "\"interval 3 day\"; found " +
                         Describe(*amount_tok));
    }
    if (unit_tok == nullptr) {
      unit_tok = &Peek();
      if (Peek().kind != TokenKind::kWord) {
        return ErrorAt(Peek(),
                       "expected an interval unit (second, minute, hour, day, week, "
                       "month or year) after the interval's amount, found " +
                           Describe(Peek()));
      }
      unit = Take().text;
    }
    std::string u = Lower(unit);
    if (u.size() > 1 && u.back() == 's') u.pop_back();
    static constexpr std::array<std::string_view, 9> kUnits = {
        "second", "minute", "hour", "day", "week", "month", "year", "millisecond", "microsecond"};
    if (std::find(kUnits.begin(), kUnits.end(), u) == kUnits.end()) {
      return ErrorAt(*unit_tok, "unknown interval unit '" + Clip(unit) +
                                    "'; use second, minute, hour, day, week, month or year");
    }
    if (u == "week") {
      if (n > INT64_MAX / 7 || n < INT64_MIN / 7) {
        return ErrorAt(*amount_tok, "the interval is out of range");
      }
      n *= 7;
      u = "day";
    }
    bj::object o = Node("interval");
    o["value"] = n;
    o["unit"] = u;
    return o;
  }

  // `a OR b OR c` becomes one node with three children, as the SDKs build it.
  StatusOr<bj::object> ParseOr() { return ParseChain("or", &Parser::ParseAnd); }
  StatusOr<bj::object> ParseAnd() { return ParseChain("and", &Parser::ParseNot); }

  StatusOr<bj::object> ParseChain(std::string_view op, StatusOr<bj::object> (Parser::*next)()) {
    ASSIGN_OR_RETURN(bj::object first, (this->*next)());
    if (!IsWord(Peek(), op)) return first;
    bj::array children{std::move(first)};
    while (AcceptWord(op)) {
      ASSIGN_OR_RETURN(bj::object child, (this->*next)());
      children.push_back(std::move(child));
    }
    bj::object o = Node(op);
    o["children"] = std::move(children);
    return o;
  }

  // Every nesting step (a NOT or a parenthesis) passes here, so this bounds the recursion.
  StatusOr<bj::object> ParseNot() {
    if (depth_ >= btql_text_depth_max) {
      return ErrorAt(Peek(), "the expression is nested more than " +
                                 std::to_string(btql_text_depth_max) + " levels deep");
    }
    ++depth_;
    StatusOr<bj::object> result = [&]() -> StatusOr<bj::object> {
      if (!AcceptWord("not")) return ParseComparison();
      ASSIGN_OR_RETURN(bj::object e, ParseNot());
      return Unary("not", std::move(e));
    }();
    --depth_;
    return result;
  }

  StatusOr<bj::object> ParseComparison() {
    ASSIGN_OR_RETURN(bj::object left, ParseAdditive());
    ASSIGN_OR_RETURN(bj::object e, ParseComparisonTail(std::move(left)));
    if (ComparisonOp(Peek()) != nullptr || IsWord(Peek(), "is")) {
      return ErrorAt(Peek(), "comparisons do not chain; combine them with AND");
    }
    return e;
  }

  static const char* ComparisonOp(const Token& t) {
    if (t.kind != TokenKind::kPunct) return nullptr;
    if (t.text == "=" || t.text == "==") return "eq";
    if (t.text == "!=" || t.text == "<>") return "ne";
    if (t.text == "<") return "lt";
    if (t.text == "<=") return "le";
    if (t.text == ">") return "gt";
    if (t.text == ">=") return "ge";
    return nullptr;
  }

  // Word operators that take a right operand; CONTAINS is BTQL's alias of INCLUDES.
  static const char* WordOp(const Token& t) {
    if (t.kind != TokenKind::kWord) return nullptr;
    std::string w = Lower(t.text);
    if (w == "like") return "like";
    if (w == "ilike") return "ilike";
    if (w == "match") return "match";
    if (w == "includes" || w == "contains") return "includes";
    if (w == "in") return "in";
    return nullptr;
  }

  StatusOr<bj::object> ParseComparisonTail(bj::object left) {
    if (const char* op = ComparisonOp(Peek())) {
      Take();
      ASSIGN_OR_RETURN(bj::object right, ParseAdditive());
      return Binary(op, std::move(left), std::move(right));
    }
    if (AcceptWord("is")) return ParseIsNull(std::move(left));
    if (IsWord(Peek(), "between"))
      return ErrorAt(Peek(), "BETWEEN is not supported yet; use >= and <=");
    bool negated = IsWord(Peek(), "not") && WordOp(Peek(1)) != nullptr;
    if (negated) Take();
    const char* op = WordOp(Peek());
    if (op == nullptr) return left;
    Take();
    ASSIGN_OR_RETURN(bj::object right,
                     std::string_view(op) == "in" ? ParseInList() : ParseAdditive());
    bj::object e = Binary(op, std::move(left), std::move(right));
    return negated ? Unary("not", std::move(e)) : std::move(e);
  }

  StatusOr<bj::object> ParseIsNull(bj::object left) {
    bool negated = AcceptWord("not");
    if (!AcceptWord("null")) {
      return ErrorAt(Peek(),
                     "expected NULL after " + PreviousText() + ", found " + Describe(Peek()));
    }
    return Unary(negated ? "isnotnull" : "isnull", std::move(left));
  }

  // `(lit, lit, ...)` as one array literal, which is what the `in` op compares against.
  StatusOr<bj::object> ParseInList() {
    const Token& open = Peek();
    RETURN_IF_ERROR(ExpectPunct("(", "after IN"));
    if (IsPunct(Peek(), ")")) return ErrorAt(Peek(), "the IN list is empty");
    bj::array values;
    do {
      const Token& t = Peek();
      ASSIGN_OR_RETURN(bj::value v, ParseLiteralValue());
      if (v.is_object()) return ErrorAt(t, "IN lists may hold only literal values");
      values.push_back(std::move(v));
    } while (AcceptPunct(","));
    RETURN_IF_ERROR(ExpectPunct(")", "to close the IN list opened at line " +
                                         std::to_string(open.line) + ", column " +
                                         std::to_string(open.column)));
    return Literal(std::move(values));
  }

  // A literal's JSON value, or an object (never a valid literal) when the token is not one.
  StatusOr<bj::value> ParseLiteralValue() {
    const Token& t = Peek();
    if (t.kind == TokenKind::kString) return bj::value(Take().text);
    if (t.kind == TokenKind::kNumber) return ParseNumber(t, Take().text);
    if (IsPunct(t, "-") && Peek(1).kind == TokenKind::kNumber) {
      Take();
      return ParseNumber(t, "-" + Take().text);
    }
    if (IsWord(t, "true") || IsWord(t, "false")) return bj::value(Lower(Take().text) == "true");
    if (IsWord(t, "null")) {
      Take();
      return bj::value(nullptr);
    }
    return bj::value(bj::object());
  }

  // One more level of AST nesting; bounds the recursion and the depth of what is built.
  Status Deeper() {
    if (depth_ >= btql_text_depth_max) {
      return ErrorAt(Peek(), "the expression is nested more than " +
                                 std::to_string(btql_text_depth_max) + " levels deep");
    }
    ++depth_;
    return Status::Ok();
  }

  static const char* AdditiveOp(const Token& t) {
    if (t.kind != TokenKind::kPunct) return nullptr;
    if (t.text == "+") return "add";
    if (t.text == "-") return "sub";
    return nullptr;
  }

  static const char* MultiplicativeOp(const Token& t) {
    if (t.kind != TokenKind::kPunct) return nullptr;
    if (t.text == "*") return "mul";
    if (t.text == "/") return "div";
    if (t.text == "%") return "mod";
    return nullptr;
  }

  StatusOr<bj::object> ParseAdditive() {
    return ParseArithmetic(&Parser::AdditiveOp, &Parser::ParseMultiplicative);
  }
  StatusOr<bj::object> ParseMultiplicative() {
    return ParseArithmetic(&Parser::MultiplicativeOp, &Parser::ParseUnary);
  }

  // Left-associative: `a - b - c` is sub(sub(a, b), c). Each operator counts as a level.
  StatusOr<bj::object> ParseArithmetic(const char* (*op_of)(const Token&),
                                       StatusOr<bj::object> (Parser::*next)()) {
    ASSIGN_OR_RETURN(bj::object left, (this->*next)());
    const int saved_depth = depth_;
    while (const char* op = op_of(Peek())) {
      RETURN_IF_ERROR(Deeper());
      Take();
      ASSIGN_OR_RETURN(bj::object right, (this->*next)());
      left = Binary(op, std::move(left), std::move(right));
    }
    depth_ = saved_depth;
    return left;
  }

  // `-x` is sub(0, x); `-3` stays the literal -3.
  StatusOr<bj::object> ParseUnary() {
    if (!IsPunct(Peek(), "-") || Peek(1).kind == TokenKind::kNumber) return ParsePrimary();
    RETURN_IF_ERROR(Deeper());
    Take();
    ASSIGN_OR_RETURN(bj::object e, ParseUnary());
    --depth_;
    return Binary("sub", Literal(bj::value(0)), std::move(e));
  }

  // `name(arg, ...)`; `count(*)` has no arguments. Aggregates do not nest.
  StatusOr<bj::object> ParseFunctionCall() {
    if (IsWord(Peek(), "any_span")) return ParseAnySpan();
    const Token& name_tok = Take();
    const std::string name = Lower(name_tok.text);
    if (!IsKnownFunction(name)) {
      return ErrorAt(name_tok, "unknown function '" + Clip(name_tok.text) + "()'; known are " +
                                   std::string(kKnownFunctions));
    }
    const bool aggregate = IsAggregateFunction(name);
    if (aggregate) {
      if (aggregate_depth_ > 0) {
        return ErrorAt(name_tok, "the aggregate '" + name +
                                     "()' cannot be used inside another "
                                     "aggregate");
      }
      if (first_aggregate_ == nullptr) first_aggregate_ = &name_tok;
    }
    const Token& open = Take();  // '('
    bj::array args;
    if (name == "count" && IsPunct(Peek(), "*") && IsPunct(Peek(1), ")")) {
      Take();
    } else if (!IsPunct(Peek(), ")")) {
      aggregate_depth_ += aggregate ? 1 : 0;
      do {
        if (IsPunct(Peek(), "*")) {
          return ErrorAt(Peek(), "'*' is only allowed as count(*)");
        }
        ASSIGN_OR_RETURN(bj::object arg, ParseExpression());
        args.push_back(std::move(arg));
      } while (AcceptPunct(","));
      aggregate_depth_ -= aggregate ? 1 : 0;
    }
    RETURN_IF_ERROR(ExpectPunct(")", "to close the arguments of '" + name + "(' at line " +
                                         std::to_string(open.line) + ", column " +
                                         std::to_string(open.column)));
    bj::object o = Node("function");
    o["name"] = bj::object{{"op", "ident"}, {"name", bj::array{bj::value(name)}}};
    o["args"] = std::move(args);
    return o;
  }

  // `any_span(predicate)`: only in filters, not nested. The AST is the function call.
  StatusOr<bj::object> ParseAnySpan() {
    const Token& name_tok = Take();
    if (!any_span_allowed_) {
      return ErrorAt(name_tok, any_span_depth_ > 0
                                   ? "any_span() cannot be nested inside another any_span()"
                                   : "any_span() can only be used in a filter (filter: or WHERE)");
    }
    const Token& open = Take();  // '('
    any_span_allowed_ = false;
    ++any_span_depth_;
    StatusOr<bj::object> arg = ParseExpression();
    --any_span_depth_;
    any_span_allowed_ = true;
    if (!arg.ok()) return arg.status();
    if (IsPunct(Peek(), ",")) {
      return ErrorAt(Peek(), "any_span() takes one argument: the condition a span must meet");
    }
    RETURN_IF_ERROR(ExpectPunct(")", "to close the any_span( at line " + std::to_string(open.line) +
                                         ", column " + std::to_string(open.column)));
    bj::object o = Node("function");
    o["name"] = bj::object{{"op", "ident"}, {"name", bj::array{bj::value("any_span")}}};
    o["args"] = bj::array{std::move(*arg)};
    return o;
  }

  StatusOr<bj::object> ParsePrimary() {
    const Token& t = Peek();
    if (IsPunct(t, "(")) return ParseParenthesized();
    if (AtInterval()) return ParseInterval();
    if (AtCase()) return ParseCase();
    if (case_depth_ > 0 && t.kind == TokenKind::kWord) {
      const std::string w = Lower(t.text);
      if (w == "when" || w == "then" || w == "else" || w == "end") {
        return ErrorAt(t, "expected an expression after " + PreviousText() +
                              ", found the "
                              "keyword '" +
                              Clip(t.text) + "' (quote it as \"" + Clip(t.text) +
                              "\" to use it as a field name)");
      }
    }
    ASSIGN_OR_RETURN(bj::value literal, ParseLiteralValue());
    if (!literal.is_object()) return Literal(std::move(literal));
    if (t.kind == TokenKind::kWord) {
      std::string lower = Lower(t.text);
      if (IsReserved(lower)) {
        return ErrorAt(t, "expected an expression after " + PreviousText() +
                              ", found the "
                              "keyword '" +
                              Clip(t.text) + "' (quote it as \"" + Clip(t.text) +
                              "\" to use it as a field name)");
      }
      if (IsPunct(Peek(1), "(")) return ParseFunctionCall();
      return ParsePath();
    }
    if (t.kind == TokenKind::kQuotedIdent) return ParsePath();
    return ErrorAt(t, "expected an expression after " + PreviousText() + ", found " + Describe(t));
  }

  StatusOr<bj::object> ParseParenthesized() {
    const Token& open = Take();
    ASSIGN_OR_RETURN(bj::object e, ParseExpression());
    RETURN_IF_ERROR(ExpectPunct(")", "to close the '(' at line " + std::to_string(open.line) +
                                         ", column " + std::to_string(open.column)));
    return e;
  }

  // `metadata.model`, `metadata."braintrust.input_json"`, `metadata.'k'`, `tags[0]`, `m['k']`.
  StatusOr<bj::object> ParsePath() {
    bj::array name{bj::value(Take().text)};
    while (true) {
      if (AcceptPunct(".")) {
        const Token& t = Take();
        if (t.kind != TokenKind::kWord && t.kind != TokenKind::kQuotedIdent &&
            t.kind != TokenKind::kString) {
          return ErrorAt(t, "expected a field name after '.', found " + Describe(t));
        }
        name.push_back(bj::value(t.text));
      } else if (AcceptPunct("[")) {
        ASSIGN_OR_RETURN(bj::value part, ParseSubscript());
        name.push_back(std::move(part));
      } else {
        break;
      }
    }
    bj::object o = Node("ident");
    o["name"] = std::move(name);
    return o;
  }

  // After '[': an integer index (negative counts from the end) or a quoted key, then ']'.
  StatusOr<bj::value> ParseSubscript() {
    const Token& t = Peek();
    ASSIGN_OR_RETURN(bj::value part, ParseLiteralValue());
    if (!part.is_int64() && !part.is_string()) {
      return ErrorAt(t,
                     "expected an integer index or a quoted key inside [], found " + Describe(t));
    }
    RETURN_IF_ERROR(ExpectPunct("]", "to close the index"));
    return part;
  }

  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  int aggregate_depth_ = 0;                    // inside an aggregate's arguments
  const Token* first_aggregate_ = nullptr;     // first aggregate call in the current item
  std::vector<const Token*> sort_aggregates_;  // per sort key, its first aggregate call
  std::vector<ListItem> outputs_;              // dimensions and measures, in order
  const Token* select_clause_ = nullptr;       // pipe clause names, for conflict errors
  const Token* aggregation_clause_ = nullptr;
  const Token* filter_clause_ = nullptr;
  const Token* having_clause_ = nullptr;
  bool any_span_allowed_ = false;  // inside a filter, outside any any_span()
  int any_span_depth_ = 0;
  int case_depth_ = 0;  // inside CASE, where WHEN/THEN/ELSE/END are keywords
};

}  // namespace

StatusOr<bj::object> ParseBtqlText(std::string_view text) {
  if (text.size() > btql_text_bytes_max) {
    return InvalidArgument("line 1, column 1: the query is " + std::to_string(text.size()) +
                           " bytes; the limit is " + std::to_string(btql_text_bytes_max));
  }
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Lexer(text).Run());
  return Parser(std::move(tokens)).Run();
}

}  // namespace arbor::query
