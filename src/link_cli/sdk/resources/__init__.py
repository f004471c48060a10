"""Link API resources: each method is a verb, a path, a query, an error family and a parse."""
