SELECT metadata.model AS model, count(*) AS n FROM experiment('e') WHERE created > now() - INTERVAL 2 WEEKS GROUP BY 1 HAVING count(*) > 2 AND avg(scores.s) >= 0.5 ORDER BY n DESC LIMIT 5;
