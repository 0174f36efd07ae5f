-- Two databases: the ragops catalog and Dagster's own storage.
CREATE DATABASE dagster OWNER ragops;
