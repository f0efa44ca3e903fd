select * from project_logs('p', shape => 'traces') where input match 'hello' and m['k'][-1] <> `a.b` -- comment
