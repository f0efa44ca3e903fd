SELECT lower(metadata.model), count(*) AS n, max(created) FROM dataset('d') GROUP BY 1 ORDER BY n DESC
