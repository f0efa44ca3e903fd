SELECT metadata.model AS m, count(*), count_distinct(id) FROM experiment('e') WHERE scores.f % 2 = 1 GROUP BY m ORDER BY count(*) DESC LIMIT 5;
